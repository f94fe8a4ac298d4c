import type { Tool } from '../Tool.ts'
import { createDirectoryTool } from './createDirectoryTool.ts'
import { deleteFileTool } from './deleteFileTool.ts'
import { editFileTool } from './editFileTool.ts'
import { getFileChangeTool } from './getFileChangeTool.ts'
import { getFileInfoTool } from './getFileInfoTool.ts'
import { listDirectoryTool } from './listDirectoryTool.ts'
import { moveFileTool } from './moveFileTool.ts'
import { readFileTool } from './readFileTool.ts'
import { readMultipleFilesTool } from './readMultipleFilesTool.ts'
import { searchFilesTool } from './searchFilesTool.ts'
import { writeFileTool } from './writeFileTool.ts'

/** The file system tools of PROTOCOL §5.3, each performed inside the session's sandbox (see SandboxFs). */
export const fileTools: readonly Tool[] = [
  readFileTool, writeFileTool, getFileInfoTool, listDirectoryTool, createDirectoryTool, moveFileTool,
  deleteFileTool, editFileTool, searchFilesTool, readMultipleFilesTool, getFileChangeTool,
]
