import type { LocalConfig } from '../config.ts'
import { createAgentSandbox } from './createAgentSandbox.ts'
import { createDirectSandbox } from './createDirectSandbox.ts'
import { findInterpreter } from './findInterpreter.ts'
import type { Sandbox, SandboxOwner } from './Sandbox.ts'

let warned = false

/**
 * The sandbox of a new session: one persistent sandbox run by an agent (needs python3), or
 * one sandbox per process when there is no python3 (then, under bubblewrap, background jobs
 * do not outlive the command that started them; a warning says so once).
 */
export function createSandbox(config: LocalConfig, session: SandboxOwner): Sandbox {
  const python = findInterpreter('python', config.isolation === 'bwrap')
  if (python) return createAgentSandbox(config, session, python)
  if (!warned && config.isolation === 'bwrap') {
    warned = true
    config.log('WARNING: python3 not found: AGB Local runs each sandbox process in a sandbox of its own; background processes end with their shell call')
  }
  return createDirectSandbox(config, session)
}
