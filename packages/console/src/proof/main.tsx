import { render } from 'preact'
import '../styles.css'
import { ProofViewer } from './viewer.js'

render(<ProofViewer />, document.getElementById('app')!)
