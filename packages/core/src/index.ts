// @meterkit/core: the runtime-neutral Meterkit client.
export {}
