// The output-path policy: every file lpsim writes (traces, checkpoints,
// graph and IDX files, report files, exploration results, JSON) goes through
// write_file_atomic, which decides from the path how the bytes land
// (docs/reliability.md, "Output paths"):
//  - a regular file, or a path that does not exist yet: written to a
//    temporary file in the same directory, fsync'ed and renamed over the
//    path, so readers see the old file or the whole new one. A symlink is
//    followed first, so the write lands on its target and the link stays.
//  - "-": standard output, written as a stream.
//  - a character or block device, a FIFO, a socket, or a link into /proc
//    such as /dev/stdout: written as a stream, never renamed over.
//  - a directory, or a path whose directory is missing or not writable:
//    refused before anything is written.
// Every write, fsync and close is checked; a failure is an InputError
// "<path>: write failed: <reason>" and nothing reports success.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace lpsim {

enum class OutputKind {
  kAtomicFile,  // regular or new file: temporary + rename
  kStream,      // device, FIFO, socket, /dev/stdout: opened and written in place
  kStdout,      // "-"
};

struct OutputTarget {
  OutputKind kind = OutputKind::kAtomicFile;
  std::string path;  // as the user gave it (for messages)
  std::string file;  // where the bytes go: a symlink's final target for kAtomicFile
};

// Classifies `path` by the policy above; InputError for a directory, a
// missing or unwritable directory, or a symlink loop. Commands call it before
// long work so that a bad -o fails at once.
OutputTarget resolve_output(const std::string& path);

// "-": the path that means standard output.
inline bool is_stdout_path(std::string_view path) { return path == "-"; }

// True when writing `path` writes this process's standard output: "-", or a
// path naming the same file, device or pipe (/dev/stdout, /proc/self/fd/1).
// Commands then print their informational lines on stderr.
bool writes_stdout(const std::string& path);

// Writes all of `bytes` to `fd` (short writes and EINTR retried); InputError
// "<path>: write failed: <reason>" otherwise. The one write loop of every
// writer, so the fault seam below reaches all of them.
void write_all(int fd, std::string_view bytes, const std::string& path);

// Calls `write` with a stream, then writes what it wrote by the policy. On
// any failure an atomic target is untouched and no temporary is left.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write);

// Same, for bytes already in memory.
void write_file_atomic(const std::string& path, const std::string& contents);

// Fault seam for tests (every writer, in any process): when the environment
// variable LPSIM_FAULT_WRITE is "enospc" or "eio", write_all writes the first
// LPSIM_FAULT_WRITE_AFTER bytes (default 0) of the process's output, then
// fails with that error, as a full disk or a failing device would.

}  // namespace lpsim
