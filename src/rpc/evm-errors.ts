/**
 * geth's wording of an ethereumjs EVM error, as JSON-RPC errors and call-tracer frames give it.
 * `opcode` is the byte an `invalid opcode` failed on, when known.
 */
export function gethErrorMessage(error: string, opcode?: number): string {
  switch (error) {
    case 'revert':
      return 'execution reverted'
    case 'code store out of gas':
      return 'contract creation code storage out of gas'
    case 'code size to deposit exceeds maximum code size':
      return 'max code size exceeded'
    case 'stack overflow':
      return 'stack limit reached 1024 (1023)'
    case 'invalid JUMP':
      return 'invalid jump destination'
    case 'invalid opcode':
      if (opcode === 0xfe) return 'invalid opcode: INVALID'
      return opcode === undefined ? 'invalid opcode' : `invalid opcode: opcode 0x${opcode.toString(16).padStart(2, '0')} not defined`
    case 'value out of range':
      return 'return data out of bounds'
    case 'static state change':
      return 'write protection'
    case 'create collision':
      return 'contract address collision'
    case 'insufficient balance':
      return 'insufficient balance for transfer'
    case 'invalid bytecode deployed':
      return 'invalid code: must not begin with 0xef'
    case 'initcode exceeds max initcode size':
      return 'max initcode size exceeded'
    case 'refund exhausted':
      return 'gas uint64 overflow'
    default:
      return error
  }
}
