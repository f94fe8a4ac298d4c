import type { LocalConfig } from '../config.ts'
import type { Session } from '../sessions/Session.ts'
import { createKernel } from './createKernel.ts'
import type { Kernel, KernelLanguage } from './createKernel.ts'

/** The session's kernel for `language`, created (not yet started) on first use. */
export function kernelFor(config: LocalConfig, session: Session, language: KernelLanguage): Kernel {
  let kernel = session.kernels.get(language)
  if (!kernel) {
    kernel = createKernel(config, session, language)
    session.kernels.set(language, kernel)
  }
  return kernel
}
