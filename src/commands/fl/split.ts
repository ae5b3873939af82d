import {Flags} from '@oclif/core'

import {XaiCommand} from '../../cli/xai-command.js'
import {DEFAULT_FEDERATION_CONFIG as d} from '../../fl/run-federation.js'
import {type SplitResult, splitDataset} from '../../fl/split.js'

export default class FlSplit extends XaiCommand<SplitResult> {
  static override summary = "Write a data set as a federation's clients would hold it: one CSV per client plus the held-back test CSV."
  static override description = `The same split as xai fl round with the same --dataset, --clients, --partition and --seed: the seeded 80/20 train/test split, features standardized with the training part's statistics, the training part spread over the clients. Each client-<i>.csv is what xai fl join --data takes; test.csv is what xai fl serve --eval-data takes. split.json lists the files.`

  static override examples = [
    {description: 'Three clients on the digits data', command: '<%= config.bin %> <%= command.id %> --dataset digits --clients 3 --out ./fed-data'},
    {description: 'Ten label-skewed clients, as JSON', command: '<%= config.bin %> <%= command.id %> --dataset breast-cancer --clients 10 --partition dirichlet:0.3 --seed 7 --out ./bc --json'},
  ]

  static override flags = {
    dataset: Flags.string({description: 'digits | breast-cancer | a .csv/.csv.gz path', default: d.dataset, env: 'XAI_FL_DATASET'}),
    clients: Flags.integer({description: 'Clients', required: true, min: 1, max: 10_000, env: 'XAI_FL_CLIENTS'}),
    partition: Flags.string({description: 'iid | dirichlet:<alpha>', default: d.partition, env: 'XAI_FL_PARTITION'}),
    seed: Flags.integer({description: 'Seed of the partition', default: d.seed, min: 0, max: 0xffff_ffff, env: 'XAI_FL_SEED'}),
    out: Flags.string({description: 'Folder the CSV files are written to', required: true, env: 'XAI_FL_SPLIT_OUT'}),
  }

  async run(): Promise<SplitResult> {
    const {flags} = await this.parse(FlSplit)
    const result = await splitDataset({dataset: flags.dataset, clients: flags.clients, partition: flags.partition, seed: flags.seed, out: flags.out})
    if (!this.jsonEnabled()) {
      for (const client of result.clients) process.stdout.write(`${client.file}\t${client.examples} examples\n`)
      process.stdout.write(`${result.test.file}\t${result.test.examples} examples (test)\n`)
    }
    return result
  }
}
