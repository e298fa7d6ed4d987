// Currencies' minor units (ISO 4217) and the one rounding an invoice line gets: half-up, to the
// currency's smallest unit. Amounts stay exact until they are rounded here.
import Big from 'big.js'
import '../decimal.js'

/**
 * Current ISO 4217 codes by minor unit (List One). Codes replaced in a recent changeover (ANG,
 * SLL, ZWL) stay so that invoices issued in them still format. Codes whose minor unit
 * is "N.A." (XAU, XAG, XPD, XPT, XBA–XBD, XDR, XSU, XUA, XTS, XXX) are not money an invoice is
 * issued in; like unknown codes, they get 2.
 */
const CODES_BY_MINOR_UNIT: Record<number, string> = {
  0: 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF',
  2: 'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN ' +
    'BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP ' +
    'GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK ' +
    'LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK ' +
    'NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD ' +
    'SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG ' +
    'YER ZAR ZMW ZWG ZWL',
  3: 'BHD IQD JOD KWD LYD OMR TND',
  4: 'CLF UYW',
}

const MINOR_UNITS = new Map<string, number>(
  Object.entries(CODES_BY_MINOR_UNIT).flatMap(([units, codes]) => codes.split(' ').map((code) => [code, Number(units)] as const)),
)

/** The unit most codes have; also what an unknown (say, newly issued) 3-letter code gets. */
const DEFAULT_MINOR_UNITS = 2

/** Digits after the decimal point in the currency's smallest unit: USD 2, JPY 0, KWD 3, CLF 4. */
export function minorUnits(currency: string): number {
  const code = currency.toUpperCase()
  // Plans are validated to hold 3-letter codes: anything else reaching here is a bug.
  if (!/^[A-Z]{3}$/.test(code)) throw new RangeError(`not an ISO 4217 currency code: "${currency}"`)
  return MINOR_UNITS.get(code) ?? DEFAULT_MINOR_UNITS
}

/** Rounds once, half-up (away from zero on .5 for negatives too, i.e. symmetric), to the currency's minor unit. */
export function roundMoney(amount: Big, currency: string): Big {
  return amount.round(minorUnits(currency), Big.roundHalfUp)
}

/** Canonical string with exactly the currency's minor digits: "12.50", "1000" for JPY, "0.125" for KWD. */
export function formatMoney(amount: Big, currency: string): string {
  const digits = minorUnits(currency)
  // big.js never writes a sign on zero, so -0.001 USD formats as "0.00", not "-0.00".
  return roundMoney(amount, currency).toFixed(digits)
}
