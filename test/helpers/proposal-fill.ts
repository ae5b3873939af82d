/**
 * Values for every placeholder of the proposal templates (templates/proposal/), so tests can
 * turn a drafted template into a valid proposal by plain string replacement.
 */
export const PLACEHOLDER_VALUES: Record<string, string> = {
  '<<TITLE>>': 'Raise the limit',
  '<<SUMMARY>>': 'Blocks are full at peak hours.',
  '<<RISK_ANALYSIS>>': 'Larger blocks take longer to validate; measured at 40 ms.',
  '<<DEPENDENCY_DIFF>>': 'None: no interface changes.',
  '<<MIGRATION_STEPS>>': '1. Nothing to do for operators.',
  '<<NEW_BLOCK_GAS_LIMIT>>': '60000000',
  '<<MODULE_ID>>': 'withdrawal-guard',
  '<<MODULE_VERSION>>': '1.2.0',
  '<<CODE_HASH>>': `0x${'ab'.repeat(32)}`,
  '<<ACTIVATION_HEIGHT>>': '1200',
  '<<VALIDATOR_ADDRESS>>': '0x70997970c51812dc3a010c7d01b50e0d17dc79c8',
  '<<VOTING_POWER>>': '10',
  '<<RECIPIENT_ADDRESS>>': '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc',
  '<<AMOUNT_WEI>>': '1000000000000000000000',
  '<<REASON>>': 'Audit of the bridge contracts',
  '<<FLAG_NAME>>': 'eip-7702',
}

/** The text with every known placeholder replaced by its value. */
export function fillPlaceholders(text: string): string {
  return text.replaceAll(/<<[A-Z0-9_]+>>/g, (token) => {
    const value = PLACEHOLDER_VALUES[token]
    if (value === undefined) throw new Error(`no test value for placeholder ${token}`)
    return value
  })
}
