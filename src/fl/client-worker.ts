// A federated-learning client in a worker thread: it receives its setup once (the data and the
// model's shape) and then tasks as messages, and answers each with its signed update.
import {parentPort, workerData} from 'node:worker_threads'

import {type ClientSetup, type ClientTask, runClientTask} from './client-task.js'

const setup = workerData as ClientSetup
const port = parentPort!

port.on('message', (request: {id: number; task: ClientTask}) => {
  try {
    const result = runClientTask(setup, request.task)
    port.postMessage({id: request.id, result}, [result.message.buffer as ArrayBuffer])
  } catch (err) {
    const error = err as {message?: string; code?: string; hint?: string}
    port.postMessage({id: request.id, error: {message: error.message ?? String(err), code: error.code, hint: error.hint}})
  }
})
