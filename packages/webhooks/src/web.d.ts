// The Web-standard globals this package uses, declared here because its tsconfig carries neither
// DOM nor Node types (receivers run it in Node, Deno, Bun, browsers and edge runtimes).
declare class TextEncoder {
  encode(input?: string): Uint8Array
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean })
  decode(input?: Uint8Array): string
}
declare function atob(data: string): string
declare function btoa(data: string): string
declare const Date: { now(): number }
