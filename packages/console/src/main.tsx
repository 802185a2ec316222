import { render } from 'preact'
import './styles.css'
import { adoptTokenFromUrl } from './api.js'
import { App } from './app.js'

adoptTokenFromUrl()
render(<App />, document.getElementById('app')!)
