import fc from 'fast-check'

/**
 * JSON request payloads as a hostile or careless user sends them: deep nesting
 * (55 to 70 levels, around the limit), integers past 2^53, floats incl. -0 and
 * integral floats, any UTF-16 including lone surrogates, empty and odd keys.
 */
const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.constantFrom('9007199254740991', '9007199254740992', '-9007199254740991', '-9007199254740992', '-0', '0.0',
    '1e300', '1.5e-300', '4.0', '1152921504606846976', '18446744073709551616', '2.5'),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(d => Object.is(d, -0) ? '-0' : JSON.stringify(d))
)
const textJson: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.constantFrom('', '__proto__', 'constructor', '\u0000', '\ud800', '\udfff x', 'é', 'e\u0301', '\uffff', '😀')
).map(s => JSON.stringify(s))

/** JSON texts, not values, so integers past 2^53, -0 and escaped lone surrogates reach the parser. */
export const { json: jsonText } = fc.letrec<{ json: string, value: string }>(tie => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    numberText, textJson, fc.constantFrom('null', 'true', 'false'),
    fc.array(tie('value'), { maxLength: 4 }).map(xs => `[${xs.join(',')}]`),
    fc.array(fc.tuple(textJson, tie('value')), { maxLength: 4 }).map(
      kv => `{${kv.map(([k, v]) => `${k}:${v}`).join(',')}}`
    )
  ),
  json: fc.oneof(
    { weight: 6, arbitrary: tie('value') },
    {
      weight: 1,
      arbitrary: fc.tuple(
        fc.integer({ min: 55, max: 70 }), tie('value')
      ).map(([n, v]) => '['.repeat(n) + v + ']'.repeat(n))
    }
  )
}))

