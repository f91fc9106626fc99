// The x402 offer of the gateway (tee-gateway.md §6.1), as data: no payment library is needed to read it.

/** OPG on Base (the only offered asset). */
export const OPG_ASSET = '0xFbC2051AE2265686a469421b2C5A2D5462FbF5eB';
/** Base mainnet. */
export const BASE_NETWORK = 'eip155:8453';
/** The upto cap the reference offers: 0.1 OPG. */
export const UPTO_MAX_AMOUNT = '100000000000000000';

/** The `erc20ApprovalGasSponsoring` extension declaration. */
export const ERC20_APPROVAL_GAS_SPONSORING = Object.freeze({
  info: {
    description:
      'The facilitator can sponsor the gas of an ERC-20 approve(Permit2) transaction signed by the payer.',
    version: '1',
  },
  schema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: { signedTransaction: { type: 'string', pattern: '^0x[0-9a-fA-F]+$' } },
    required: ['signedTransaction'],
  },
});
