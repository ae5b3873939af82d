// End to end: real Solidity projects through the built CLI against a devnet: an OpenZeppelin
// ERC-20 + Governor installed from npm (node_modules), and a Foundry-style project (lib/ +
// remappings.txt and an inferred lib/<name>/src remapping).
import {mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type CliResult, explain, json, runXai} from '../helpers/cli.js'
import {type E2eDevnet, STANDARD_DEV_ACCOUNTS, startE2eDevnet} from '../helpers/devnet.js'

const require = createRequire(import.meta.url)
/** The @openzeppelin/contracts devDependency, linked into each temp project's node_modules as npm would install it. */
const OZ = dirname(require.resolve('@openzeppelin/contracts/package.json'))

let devnet: E2eDevnet | undefined
let tmp: string
const [alice] = STANDARD_DEV_ACCOUNTS

const rpc = (): string[] => ['--rpc-url', devnet!.rpcUrl]

async function ok(args: string[], cwd: string, timeout = 300_000): Promise<CliResult> {
  const result = await runXai(args, cwd, timeout)
  expect(result.exitCode, explain(result)).toBe(0)
  return result
}

async function write(root: string, path: string, content: string): Promise<void> {
  await mkdir(dirname(join(root, path)), {recursive: true})
  await writeFile(join(root, path), content)
}

const GOVERNANCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";

contract GovToken is ERC20, ERC20Permit, ERC20Votes {
    constructor(uint256 supply) ERC20("Gov", "GOV") ERC20Permit("Gov") { _mint(msg.sender, supply); }
    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) { super._update(from, to, value); }
    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) { return super.nonces(owner); }
}

contract MyGovernor is Governor, GovernorSettings, GovernorCountingSimple, GovernorVotes, GovernorVotesQuorumFraction {
    constructor(IVotes token) Governor("MyGovernor") GovernorSettings(1, 10, 0) GovernorVotes(token) GovernorVotesQuorumFraction(4) {}
    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) { return super.proposalThreshold(); }
}
`

describe('real Solidity projects (CLI, devnet)', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'xai-projects-e2e-'))
    devnet = await startE2eDevnet({blockTime: 0})
  }, 180_000)
  afterAll(async () => {
    await devnet?.stop()
    if (tmp) await rm(tmp, {recursive: true, force: true})
  })

  it('compiles and deploys an OpenZeppelin ERC-20 + Governor installed in node_modules', async () => {
    await ok(['contract', 'init', 'oz'], tmp)
    const project = join(tmp, 'oz')
    await mkdir(join(project, 'node_modules', '@openzeppelin'), {recursive: true})
    await symlink(OZ, join(project, 'node_modules', '@openzeppelin', 'contracts'), 'dir')
    await write(project, 'contracts/Governance.sol', GOVERNANCE)

    const compiled = json(await ok(['contract', 'compile', '--json'], project))
    expect(compiled.compiled).toContain('contracts/Governance.sol')
    expect(compiled.artifacts.map((a: {path: string}) => a.path)).toEqual(
      expect.arrayContaining(['artifacts/contracts/Governance.sol/GovToken.json', 'artifacts/contracts/Governance.sol/MyGovernor.json']),
    )

    const token = json(await ok(['contract', 'deploy', 'GovToken', '1000000', ...rpc(), '--json'], project))
    expect(token.status).toBe('deployed')
    const governor = json(await ok(['contract', 'deploy', 'MyGovernor', token.address, ...rpc(), '--json'], project))
    expect(governor.status).toBe('deployed')

    expect(json(await ok(['contract', 'call', 'GovToken', 'balanceOf', alice!.address, ...rpc(), '--json'], project)).result).toBe('1000000')
    expect(json(await ok(['contract', 'call', 'MyGovernor', 'name', ...rpc(), '--json'], project)).result).toBe('MyGovernor')
    expect(json(await ok(['contract', 'call', 'MyGovernor', 'token', ...rpc(), '--json'], project)).result.toLowerCase()).toBe(token.address.toLowerCase())
    expect(json(await ok(['contract', 'call', 'MyGovernor', 'votingPeriod', ...rpc(), '--json'], project)).result).toBe('10')

    // Nothing changed: the second compile reuses the cache, library sources included.
    const again = json(await ok(['contract', 'compile', '--json'], project))
    expect(again.compiled).toEqual([])
  }, 600_000)

  it('compiles and deploys a Foundry-style project: remappings.txt and an inferred lib/<name>/src remapping', async () => {
    await ok(['contract', 'init', 'forge'], tmp)
    const project = join(tmp, 'forge')
    await write(project, 'remappings.txt', 'mathlib/=lib/math-lib/src/\n')
    await write(project, 'lib/math-lib/src/Math.sol', '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\nimport {Base} from "./Base.sol";\nlibrary Math { function twice(uint256 x) internal pure returns (uint256) { return Base.add(x, x); } }\n')
    await write(project, 'lib/math-lib/src/Base.sol', '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\nlibrary Base { function add(uint256 a, uint256 b) internal pure returns (uint256) { return a + b; } }\n')
    await write(project, 'lib/greeter/src/Greeting.sol', '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\nabstract contract Greeting { function greet() external pure returns (string memory) { return "gm"; } }\n')
    await write(
      project,
      'contracts/Calc.sol',
      '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\nimport {Math} from "mathlib/Math.sol";\nimport {Greeting} from "greeter/Greeting.sol";\ncontract Calc is Greeting { function double(uint256 x) external pure returns (uint256) { return Math.twice(x); } }\n',
    )
    const deployed = json(await ok(['contract', 'deploy', 'Calc', ...rpc(), '--json'], project))
    expect(deployed.status).toBe('deployed')
    expect(json(await ok(['contract', 'call', 'Calc', 'double', '21', ...rpc(), '--json'], project)).result).toBe('42')
    expect(json(await ok(['contract', 'call', 'Calc', 'greet', ...rpc(), '--json'], project)).result).toBe('gm')

    // A broken import still points at its line, with the existing diagnostic format.
    await write(project, 'contracts/Broken.sol', '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\nimport {Nope} from "mathlib/Nope.sol";\ncontract Broken {}\n')
    const broken = await runXai(['contract', 'compile'], project)
    expect(broken.exitCode, explain(broken)).toBe(2)
    expect(broken.stderr).toContain('contracts/Broken.sol:3:20: error: Import "mathlib/Nope.sol" not found: lib/math-lib/src/Nope.sol does not exist')
    expect(broken.stderr).toContain('[CONTRACT_IMPORT_NOT_FOUND]')
  }, 600_000)

  it('deploys and calls from a Foundry out/ and a Hardhat artifacts/ folder without moving files', async () => {
    // Real bytecode: the Calc contract compiled above, rewritten in each tool's artifact shape.
    const ours = JSON.parse(await readFile(join(tmp, 'forge', 'artifacts', 'contracts', 'Calc.sol', 'Calc.json'), 'utf8'))
    const foundry = join(tmp, 'foundry-app')
    await write(foundry, 'foundry.toml', '[profile.default]\nsrc = "src"\nout = "out"\nlibs = ["lib"]\n')
    await write(
      foundry,
      'out/Calc.sol/Calc.json',
      JSON.stringify({abi: ours.abi, bytecode: {object: ours.bytecode, linkReferences: {}}, deployedBytecode: {object: ours.deployedBytecode}, metadata: {compiler: {version: '0.8.37'}}}),
    )
    await mkdir(join(foundry, 'script'), {recursive: true})
    const deployed = json(await ok(['contract', 'deploy', 'Calc', ...rpc(), '--json'], join(foundry, 'script')))
    expect(deployed).toMatchObject({status: 'deployed', journal: `.xai/deployments/${devnet!.chainId}/Calc.json`})
    expect(json(await ok(['contract', 'call', 'Calc', 'double', '5', ...rpc(), '--json'], foundry)).result).toBe('10')

    const hardhat = join(tmp, 'hardhat-app')
    await write(hardhat, 'hardhat.config.cjs', 'module.exports = {solidity: "0.8.37"}\n')
    const hh = {_format: 'hh-sol-artifact-1', contractName: 'Calc', sourceName: 'contracts/Calc.sol', abi: ours.abi, bytecode: ours.bytecode, deployedBytecode: ours.deployedBytecode, linkReferences: {}, deployedLinkReferences: {}}
    await write(hardhat, 'artifacts/contracts/Calc.sol/Calc.json', JSON.stringify(hh))
    await write(hardhat, 'artifacts/contracts/Calc.sol/Calc.dbg.json', '{"_format":"hh-sol-dbg-1"}')
    const viaFlag = json(await ok(['contract', 'deploy', 'Calc', ...rpc(), '--artifacts', join(hardhat, 'artifacts'), '--force', '--json'], foundry))
    expect(viaFlag.status).toBe('deployed')
    expect(viaFlag.address).not.toBe(deployed.address)
    const inHardhat = json(await ok(['contract', 'deploy', 'Calc', ...rpc(), '--json'], hardhat))
    expect(inHardhat.status).toBe('deployed')
    expect(json(await ok(['contract', 'call', 'Calc', 'greet', ...rpc(), '--json'], hardhat)).result).toBe('gm')
  }, 300_000)
})
