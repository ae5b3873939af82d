import {z} from 'zod'

// The request and response bodies of the node's REST surface. They are the single source of
// truth: requests are parsed with them, and /openapi.json is generated from them.

const hexString = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, 'expected 0x-prefixed hex bytes')
export const addressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 20-byte 0x-prefixed address').describe('An address, 0x-prefixed')
const quantity = z.string().regex(/^(0|[1-9][0-9]*)$/, 'expected a decimal integer string').describe('An integer as a decimal string')
const blockTag = z
  .string()
  .regex(/^(latest|pending|earliest|safe|finalized|0|[1-9][0-9]*|0x[0-9a-fA-F]+)$/, 'expected a block number or latest|pending|earliest|safe|finalized')
  .describe('A block number (decimal or 0x-hex) or tag')

/** One ABI item: solc's JSON ABI format (checked for shape, its types by viem when used). */
const abiItem = z.looseObject({
  type: z.enum(['function', 'constructor', 'event', 'error', 'fallback', 'receive']),
  name: z.string().optional(),
  inputs: z.array(z.looseObject({name: z.string().optional(), type: z.string()})).optional(),
})
const abiSchema = z.array(abiItem).describe("A contract's JSON ABI")

/** Arguments as JSON: numbers, strings, booleans, arrays and objects (tuples), parsed by ABI type. */
const argsSchema = z.array(z.unknown()).max(64).describe('Arguments by ABI type: integers as numbers or decimal/0x strings, addresses and bytes as 0x strings, arrays and tuples as JSON')

export const errorResponseSchema = z
  .strictObject({
    error: z.strictObject({
      code: z.string().describe('A stable error code, e.g. REST_UNAUTHORIZED'),
      message: z.string(),
      hint: z.string().optional(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .describe('An error')

export const healthResponseSchema = z.strictObject({
  status: z.literal('ok'),
  chainId: z.number().int(),
  blockNumber: z.number().int().min(0),
})

export const deployRequestSchema = z
  .strictObject({
    artifact: z.string().min(1).max(256).optional().describe("A compiled contract of the node's project, by name (Token) or fully qualified name (contracts/Token.sol:Token)"),
    bytecode: hexString.optional().describe('Creation code, instead of an artifact'),
    abi: abiSchema.optional().describe('The ABI to encode constructor arguments with, when sending bytecode'),
    args: argsSchema.optional(),
    from: addressSchema.optional().describe('One of the accounts the node signs for (eth_accounts) [default: the first]'),
    value: quantity.optional().describe('Wei sent to a payable constructor'),
    gas: quantity.optional().describe('Gas limit [default: estimated]'),
  })
  .refine((body) => (body.artifact === undefined) !== (body.bytecode === undefined), {message: 'give exactly one of artifact and bytecode'})

export const deployResponseSchema = z.strictObject({
  address: addressSchema,
  txHash: hexString,
  blockNumber: quantity,
  gasUsed: quantity,
  from: addressSchema,
  contract: z.string().nullable().describe('The artifact deployed, if named'),
})

export const callRequestSchema = z
  .strictObject({
    address: addressSchema,
    function: z.string().min(1).max(512).describe("A function name, or a signature ('transfer(address,uint256)') for overloads"),
    args: argsSchema.optional(),
    artifact: z.string().min(1).max(256).optional().describe("The artifact whose ABI to use (a compiled contract of the node's project)"),
    abi: abiSchema.optional().describe('The ABI to use, instead of an artifact'),
    from: addressSchema.optional().describe('msg.sender of the call'),
    block: blockTag.optional().describe('The block to call at [default: latest]'),
  })
  .refine((body) => (body.artifact === undefined) !== (body.abi === undefined), {message: 'give exactly one of artifact and abi'})

export const callResponseSchema = z.strictObject({
  address: addressSchema,
  function: z.string().describe('The canonical signature called'),
  result: z.unknown().describe('The decoded return value (one value unwrapped; integers as decimal strings)'),
  data: hexString.describe('The raw return data'),
  blockNumber: quantity,
})

export const stateParamsSchema = z.strictObject({address: addressSchema})

export const stateQuerySchema = z.strictObject({
  artifact: z.string().min(1).max(256).optional().describe('The artifact whose storage layout to decode with [default: the one whose runtime code matches]'),
  key: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe('Mapping keys to read: label=k (or label=k1,k2 for nested mappings), or a bare key for every mapping that accepts it; repeatable'),
  block: blockTag.optional().describe('The block to read at [default: latest]'),
})

const storageVariableSchema: z.ZodType = z.looseObject({
  label: z.string(),
  type: z.string(),
  slot: z.string(),
  offset: z.number().int(),
  value: z.unknown(),
})

export const stateResponseSchema = z.strictObject({
  address: addressSchema,
  blockNumber: quantity,
  balance: quantity,
  nonce: z.number().int().min(0),
  codeSize: z.number().int().min(0),
  codeHash: hexString,
  contract: z.string().nullable().describe('The artifact whose layout decoded the storage; null when none matched'),
  variables: z.array(storageVariableSchema).nullable().describe('State variables decoded through the storage layout; null without a matching artifact'),
})

export type DeployRequest = z.infer<typeof deployRequestSchema>
export type DeployResponse = z.infer<typeof deployResponseSchema>
export type CallRequest = z.infer<typeof callRequestSchema>
export type CallResponse = z.infer<typeof callResponseSchema>
export type StateQuery = z.infer<typeof stateQuerySchema>
export type StateResponse = z.infer<typeof stateResponseSchema>
export type HealthResponse = z.infer<typeof healthResponseSchema>
