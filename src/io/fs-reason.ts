/** The words for a failed file operation, as ls or cat would say them. */
export function fsReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return FS_REASONS[code ?? ''] ?? code ?? String((error as Error).message);
}

const FS_REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EPIPE: 'broken pipe',
  EFBIG: 'file too large',
};
