// Rating: usage priced by a charge's model, exact and unrounded; money rounded once per currency.
export { minorUnits, roundMoney, formatMoney } from './currency.js'
export { priceAmount } from './price.js'
export { rateCharge, incrementCost, type UsageCharge, type ChargeUsage, type RatedLine } from './charge.js'
