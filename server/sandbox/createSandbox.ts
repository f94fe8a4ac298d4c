import type { LocalConfig } from '../config.ts'
import { createAgentSandbox } from './createAgentSandbox.ts'
import { createDirectSandbox } from './createDirectSandbox.ts'
import { findInterpreter } from './findInterpreter.ts'
import type { Sandbox, SandboxOwner } from './Sandbox.ts'

let warned = false

/**
 * The sandbox of a new session: one persistent sandbox run by an agent (needs python3), or
 * one sandbox per process when there is no python3 (then, under bubblewrap, background jobs
 * do not outlive the command that started them, and file operations are refused; a warning
 * says so once).
 */
export function createSandbox(config: LocalConfig, session: SandboxOwner): Sandbox {
  const python = findInterpreter('python', config.isolation === 'bwrap')
  if (python) return createAgentSandbox(config, session, python)
  if (!warned) {
    warned = true
    config.log(config.isolation === 'bwrap'
      ? 'WARNING: python3 not found: AGB Local runs each sandbox process in a sandbox of its own; background processes end with their shell call, and the file tools, OSS transfers and context sync fail (they run inside the sandbox, by a python3 agent)'
      : 'WARNING: python3 not found: the file tools, OSS transfers and context sync fail (AGB Local performs them with a python3 agent)')
  }
  return createDirectSandbox(config, session)
}
