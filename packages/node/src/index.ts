// @meterkit/node: the Meterkit client for Node.js.
export {}
