// Reading user input files in bounded memory.
#include "core/input_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"

namespace lpsim {

namespace {

constexpr std::size_t kChunk = std::size_t{1} << 16;
struct Limit {
  const char* what;
  const char* variable;
};
constexpr Limit kLineFileLimit{"a file read line by line (a trace)", "LPSIM_MAX_INPUT_MB"};
constexpr Limit kWholeFileLimit{"a file read whole (YAML, JSON, CSV, checkpoint)",
                                "LPSIM_MAX_RECORD_MB"};

std::int64_t cap_from_env(const char* name, std::int64_t default_bytes) {
  const char* text = std::getenv(name);
  if (!text) return default_bytes;
  char* end = nullptr;
  errno = 0;
  const long long mib = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || mib < 1 || mib > kMaxCapMiB)
    throw InputError(
        fmt::format("environment variable {} = \"{}\": must be an integer number of "
                    "MiB in 1..{}",
                    name, text, kMaxCapMiB));
  return mib * kMiB;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads `path` in chunks, gunzipping when asked and the magic is there, and
// hands each chunk of plain bytes to `sink`; enforces max_bytes.
// `limit` names what is limited and how to raise it, for the message.
void for_each_chunk(const std::string& path, bool gunzip, std::int64_t max_bytes,
                    const Limit& limit, const std::function<void(std::string_view)>& sink) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw InputError(fmt::format("{}: is a directory, expected a file", path));
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0)
    throw InputError(fmt::format("{}: cannot open for reading: {}", path, std::strerror(errno)));
  std::int64_t total = 0;
  auto emit = [&](const char* data, std::size_t n) {
    total += static_cast<std::int64_t>(n);
    if (total > max_bytes)
      throw InputError(
          fmt::format("{}: more than {} MiB{}: {} is limited to {} MiB ({}=N raises "
                      "the limit)",
                      path, max_bytes / kMiB, gunzip ? " (after gunzip)" : "", limit.what,
                      max_bytes / kMiB, limit.variable));
    if (n > 0) sink(std::string_view(data, n));
  };
  std::vector<char> in(kChunk), out(kChunk);
  auto read_some = [&]() -> std::size_t {
    while (true) {
      const ssize_t n = ::read(fd.get(), in.data(), in.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR)
        throw InputError(fmt::format("{}: read error: {}", path, std::strerror(errno)));
    }
  };
  std::size_t got = read_some();
  const bool gz = gunzip && got >= 2 && static_cast<unsigned char>(in[0]) == 0x1f &&
                  static_cast<unsigned char>(in[1]) == 0x8b;
  if (!gz) {
    for (; got > 0; got = read_some()) emit(in.data(), got);
    return;
  }
  z_stream zs{};
  // 15 + 32: a gzip or zlib header.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw InternalError("zlib: inflateInit2 failed");
  struct End {
    z_stream* zs;
    ~End() { inflateEnd(zs); }
  } end{&zs};
  auto corrupt = [&](const char* why) {
    throw InputError(fmt::format("{}: corrupt gzip data: {}", path,
                                 why ? why : (zs.msg ? zs.msg : "inflate failed")));
  };
  zs.next_in = reinterpret_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(got);
  bool stream_end = false;
  while (true) {
    if (zs.avail_in == 0) {
      got = read_some();
      if (got == 0) break;
      zs.next_in = reinterpret_cast<Bytef*>(in.data());
      zs.avail_in = static_cast<uInt>(got);
      if (stream_end) {
        // Concatenated gzip members (`cat a.gz b.gz`) form one stream.
        if (inflateReset(&zs) != Z_OK) corrupt(nullptr);
        stream_end = false;
      }
    } else if (stream_end) {
      if (inflateReset(&zs) != Z_OK) corrupt(nullptr);
      stream_end = false;
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) corrupt(nullptr);
    emit(out.data(), out.size() - zs.avail_out);
    if (rc == Z_STREAM_END) stream_end = true;
  }
  if (!stream_end) corrupt("the file is truncated");
}

// Splits chunks into lines; enforces max_record_bytes.
class LineSplitter {
 public:
  LineSplitter(const std::string& path, std::int64_t max_record,
               const std::function<void(std::string_view, std::int64_t)>* on_line)
      : path_(path), max_record_(max_record), on_line_(on_line) {}

  void feed(std::string_view chunk) {
    std::size_t pos = 0;
    while (pos < chunk.size()) {
      const std::size_t nl = chunk.find('\n', pos);
      const std::size_t stop = nl == std::string_view::npos ? chunk.size() : nl;
      check(line_bytes_ + static_cast<std::int64_t>(stop - pos));
      if (on_line_) pending_.append(chunk.data() + pos, stop - pos);
      line_bytes_ += static_cast<std::int64_t>(stop - pos);
      if (nl == std::string_view::npos) break;
      emit();
      pos = nl + 1;
    }
  }
  void finish() {
    if (line_bytes_ > 0) emit();
  }

 private:
  void check(std::int64_t bytes) const {
    if (bytes > max_record_)
      throw InputError(fmt::format(
          "{}:{}: a line of more than {} MiB: one record (line) is limited to {} MiB (raise "
          "the limit with LPSIM_MAX_RECORD_MB=N)",
          path_, line_no_ + 1, max_record_ / kMiB, max_record_ / kMiB));
  }
  void emit() {
    ++line_no_;
    if (on_line_) (*on_line_)(pending_, line_no_);
    pending_.clear();
    line_bytes_ = 0;
  }

  const std::string& path_;
  std::int64_t max_record_;
  const std::function<void(std::string_view, std::int64_t)>* on_line_;
  std::string pending_;
  std::int64_t line_bytes_ = 0;
  std::int64_t line_no_ = 0;
};

}  // namespace

InputCaps input_caps() {
  return {cap_from_env("LPSIM_MAX_INPUT_MB", kDefaultMaxInputBytes),
          cap_from_env("LPSIM_MAX_RECORD_MB", kDefaultMaxRecordBytes)};
}

void for_each_line(const std::string& path, bool gunzip,
                   const std::function<void(std::string_view, std::int64_t)>& on_line) {
  const InputCaps caps = input_caps();
  LineSplitter lines(path, caps.max_record_bytes, &on_line);
  for_each_chunk(path, gunzip, caps.max_bytes, kLineFileLimit,
                 [&](std::string_view c) { lines.feed(c); });
  lines.finish();
}

std::string read_input_file(const std::string& path, bool gunzip, bool lines) {
  const InputCaps caps = input_caps();
  LineSplitter check(path, lines ? caps.max_record_bytes : caps.max_bytes, nullptr);
  std::string out;
  for_each_chunk(path, gunzip, caps.max_record_bytes, kWholeFileLimit, [&](std::string_view c) {
    check.feed(c);
    out.append(c);
  });
  return out;
}

void check_input_caps(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  const InputCaps caps = input_caps();
  LineSplitter lines(path, caps.max_record_bytes, nullptr);
  for_each_chunk(path, false, caps.max_record_bytes, kWholeFileLimit,
                 [&](std::string_view c) { lines.feed(c); });
}

}  // namespace lpsim
