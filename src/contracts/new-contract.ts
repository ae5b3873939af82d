import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {writeFileAtomic} from '../util/atomic-write.js'
import {XaiError} from '../util/errors.js'
import {assertContractNameFree, validateContractName} from './contract-name.js'
import {ContractsErrorCode} from './errors.js'
import type {Project} from './project.js'
import {CONTRACT_TEMPLATES, CONTRACT_TEMPLATE_IDS, type ContractTemplateId, LIBRARY_DIR, readTemplateFile, renderContractTemplate} from './templates.js'

export interface NewContractOptions {
  name: string
  template: string
}

export interface NewContractResult {
  name: string
  template: ContractTemplateId
  /** Relative to the project root. */
  contract: string
  test: string
  /** Every file written (the contract, its test, and shared files that were missing). */
  created: string[]
  /** Shared files (contracts/xai/*.sol, test/helpers/xai.ts) that existed and were kept. */
  kept: string[]
}

export function isContractTemplateId(id: string): id is ContractTemplateId {
  return Object.hasOwn(CONTRACT_TEMPLATES, id)
}

/**
 * Adds contracts/<name>.sol from a template, with the contract renamed, and test/<name>.test.ts;
 * copies the shared base contracts the template imports into contracts/xai/ when missing.
 *
 * @example
 * await newContract(project, {name: 'MyToken', template: 'erc20'})
 */
export async function newContract(project: Project, options: NewContractOptions): Promise<NewContractResult> {
  const {name, template} = options
  if (!isContractTemplateId(template)) {
    throw new XaiError(ContractsErrorCode.unknownTemplate, `Unknown template "${template}"`, {
      hint: `Templates: ${CONTRACT_TEMPLATE_IDS.join(', ')}`,
      details: {template, templates: CONTRACT_TEMPLATE_IDS},
    })
  }
  validateContractName(name)
  await assertContractNameFree(project, name)

  const rendered = await renderContractTemplate(template, name)
  const result: NewContractResult = {name, template, contract: `contracts/${name}.sol`, test: `test/${name}.test.ts`, created: [], kept: []}
  const shared = [
    ...CONTRACT_TEMPLATES[template].libs.map((lib) => ({path: `${LIBRARY_DIR}/${lib}`, from: ['lib', lib]})),
    {path: 'test/helpers/xai.ts', from: ['project', 'test', 'helpers', 'xai.ts']},
  ]
  for (const file of shared) {
    const target = join(project.root, ...file.path.split('/'))
    if ((await readFile(target, 'utf8').catch(() => undefined)) !== undefined) {
      result.kept.push(file.path)
      continue
    }
    await writeFileAtomic(target, await readTemplateFile(...file.from))
    result.created.push(file.path)
  }
  await writeFileAtomic(join(project.root, ...result.contract.split('/')), rendered.contract)
  await writeFileAtomic(join(project.root, ...result.test.split('/')), rendered.test)
  result.created.push(result.contract, result.test)
  return result
}
