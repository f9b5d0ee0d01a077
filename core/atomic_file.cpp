// The output-path policy: whole-or-nothing files, streams for everything else.
#include "core/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "core/error.h"

namespace lpsim {

namespace fs = std::filesystem;

namespace {

// Linux's own limit on links followed while resolving one path.
constexpr int kMaxSymlinkHops = 40;

bool under_proc(const fs::path& p) {
  std::error_code ec;
  const fs::path real = fs::weakly_canonical(p, ec);
  const std::string s = (ec ? p : real).string();
  return s == "/proc" || s.rfind("/proc/", 0) == 0;
}

// The seam: how many of `n` bytes may still be written, and the error after.
std::size_t fault_allowance(std::size_t n, int& err) {
  err = 0;
  const char* mode = std::getenv("LPSIM_FAULT_WRITE");
  if (!mode || !*mode) return n;
  static std::size_t written = 0;
  const char* after_text = std::getenv("LPSIM_FAULT_WRITE_AFTER");
  const std::size_t after = after_text ? std::strtoull(after_text, nullptr, 10) : 0;
  if (written + n <= after) {
    written += n;
    return n;
  }
  err = std::strcmp(mode, "eio") == 0 ? EIO : ENOSPC;
  const std::size_t allowed = after > written ? after - written : 0;
  written += allowed;
  return allowed;
}

std::string shown(const OutputTarget& t) {
  return t.kind == OutputKind::kStdout ? std::string("standard output (-o -)") : t.path;
}

void write_stream(const OutputTarget& t, const std::string& contents) {
  if (t.kind == OutputKind::kStdout) {
    std::cout.flush();
    std::fflush(stdout);
    write_all(STDOUT_FILENO, contents, shown(t));
    return;
  }
  // O_APPEND: a link to an open descriptor (/dev/stdout redirected with >>)
  // continues the file instead of overwriting its start; devices ignore it.
  const int fd = ::open(t.file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    throw InputError(fmt::format("{}: cannot open for writing: {}", t.path, std::strerror(errno)));
  try {
    write_all(fd, contents, t.path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0)
    throw InputError(fmt::format("{}: write failed: {}", t.path, std::strerror(errno)));
}

void write_atomic(const OutputTarget& t, const std::string& contents) {
  const fs::path target(t.file);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmpl = (dir / ("." + target.filename().string() + ".tmp.XXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    throw InputError(
        fmt::format("{}: cannot create output file: {}", t.path, std::strerror(errno)));
  auto fail = [&](const char* what, int err) {
    ::close(fd);
    ::unlink(tmpl.c_str());
    throw InputError(fmt::format("{}: {}: {}", t.path, what, std::strerror(err)));
  };
  try {
    write_all(fd, contents, t.path);
  } catch (...) {
    ::close(fd);
    ::unlink(tmpl.c_str());
    throw;
  }
  // An existing file keeps its permissions; a new one is rw-r--r--.
  struct stat old {};
  ::fchmod(fd, ::stat(t.file.c_str(), &old) == 0 ? (old.st_mode & 07777) : 0644);
  if (::fsync(fd) != 0) fail("write failed", errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmpl.c_str());
    throw InputError(fmt::format("{}: write failed: {}", t.path, std::strerror(err)));
  }
  if (std::rename(tmpl.c_str(), t.file.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmpl.c_str());
    throw InputError(
        fmt::format("{}: cannot move output into place: {}", t.path, std::strerror(err)));
  }
}

}  // namespace

OutputTarget resolve_output(const std::string& path) {
  OutputTarget t{OutputKind::kAtomicFile, path, path};
  if (path.empty())
    throw InputError("output path is empty: give a file name, or - for standard output");
  if (is_stdout_path(path)) {
    t.kind = OutputKind::kStdout;
    return t;
  }
  // Follow symlinks by hand: a dangling link's target is still where the file
  // goes, and a link into /proc (/dev/stdout, /dev/fd/N) names an open
  // descriptor, which is written as a stream.
  fs::path p(path);
  for (int hops = 0;; ++hops) {
    if (under_proc(p.has_parent_path() ? p.parent_path() : fs::path("."))) {
      t.kind = OutputKind::kStream;
      return t;
    }
    struct stat lst {};
    if (::lstat(p.c_str(), &lst) != 0 || !S_ISLNK(lst.st_mode)) break;
    if (hops == kMaxSymlinkHops)
      throw InputError(fmt::format("{}: too many levels of symbolic links", path));
    std::error_code ec;
    fs::path next = fs::read_symlink(p, ec);
    if (ec)
      throw InputError(fmt::format("{}: cannot read the symbolic link: {}", path, ec.message()));
    if (next.is_relative()) next = (p.has_parent_path() ? p.parent_path() : fs::path(".")) / next;
    p = next.lexically_normal();
    if (under_proc(p)) {
      t.kind = OutputKind::kStream;
      return t;
    }
  }
  t.file = p.string();
  struct stat st {};
  if (::stat(t.file.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      throw InputError(fmt::format(
          "{}: is a directory, expected an output file path (or - for standard output)", path));
    if (!S_ISREG(st.st_mode)) {
      t.kind = OutputKind::kStream;
      return t;
    }
  } else if (errno != ENOENT) {
    throw InputError(fmt::format("{}: cannot write there: {}", path, std::strerror(errno)));
  }
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  struct stat dst {};
  if (::stat(dir.c_str(), &dst) != 0 || !S_ISDIR(dst.st_mode))
    throw InputError(fmt::format("{}: directory {} does not exist", path, dir.string()));
  if (::access(dir.c_str(), W_OK) != 0)
    throw InputError(fmt::format("{}: cannot write into directory {}: {}", path, dir.string(),
                                 std::strerror(errno)));
  return t;
}

bool writes_stdout(const std::string& path) {
  if (is_stdout_path(path)) return true;
  struct stat out {
  }, st{};
  return ::fstat(STDOUT_FILENO, &out) == 0 && ::stat(path.c_str(), &st) == 0 &&
         out.st_dev == st.st_dev && out.st_ino == st.st_ino;
}

void write_all(int fd, std::string_view bytes, const std::string& path) {
  int injected = 0;
  const std::size_t allowed = fault_allowance(bytes.size(), injected);
  const char* p = bytes.data();
  std::size_t left = allowed;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InputError(fmt::format("{}: write failed: {}", path, std::strerror(errno)));
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (injected != 0)
    throw InputError(fmt::format("{}: write failed: {}", path, std::strerror(injected)));
}

void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& write) {
  std::ostringstream buffer;
  write(buffer);
  write_file_atomic(path, buffer.str());
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  const OutputTarget t = resolve_output(path);
  if (t.kind == OutputKind::kAtomicFile)
    write_atomic(t, contents);
  else
    write_stream(t, contents);
}

}  // namespace lpsim
