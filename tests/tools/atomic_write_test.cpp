// Whole-or-nothing outputs (docs/reliability.md): lpsim is killed with SIGKILL
// at many points of a run; the output path then holds the old file or the
// complete new one, never a torn file.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;

namespace {

fs::path scratch() {
  fs::path d = fs::temp_directory_path() / ("lpsim_atomic_test_" + std::to_string(getpid()));
  fs::create_directories(d);
  return d;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Starts `lpsim args...` with stdout and stderr discarded.
pid_t spawn(const std::vector<std::string>& args) {
  std::vector<std::string> all{LPSIM_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

double run_seconds(const std::vector<std::string>& args) {
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(wait_exit(spawn(args)) == 0);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Kills `lpsim args` at `kills` points spread over a run of `full_s` seconds
// and calls `check` after each; counts the runs killed before they finished.
template <class Check>
int kill_repeatedly(const std::vector<std::string>& args, double full_s, int kills, Check check) {
  int killed = 0;
  for (int i = 0; i < kills; ++i) {
    const double at_s = full_s * (0.05 + 0.95 * i / kills);
    const pid_t pid = spawn(args);
    std::this_thread::sleep_for(std::chrono::duration<double>(at_s));
    kill(pid, SIGKILL);
    killed += wait_exit(pid) == -SIGKILL;
    check(i);
  }
  return killed;
}

void remove_temporaries(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) fs::remove(e.path());
}

}  // namespace

TEST_CASE("synth killed mid-write leaves the old trace or the whole new one and never a torn file") {
  const fs::path dir = scratch() / "synth";
  fs::create_directories(dir);
  const fs::path out = dir / "big.lpt";
  const fs::path reference = dir / "reference.lpt";
  // ~10^5 segments: tens of MB, so that writing and fsync take a real window.
  auto args = [](const fs::path& o) {
    return std::vector<std::string>{"synth", "--model", "resnet20", "--dataset", "cifar10",
                                    "--epochs", "200", "--schedule",
                                    "cyclic:3-8/8,cycles=20000", "-q", "-o", o.string()};
  };
  const double full_s = run_seconds(args(reference));
  const std::string fresh = slurp(reference);
  REQUIRE(fresh.size() > 1000000);

  std::ofstream(out, std::ios::binary) << "old contents\n";
  const std::string old = "old contents\n";
  bool replaced = false;
  const int killed = kill_repeatedly(args(out), full_s, 16, [&](int i) {
    INFO("kill " << i);
    REQUIRE(fs::exists(out));
    const std::string now = slurp(out);
    const bool whole = now == (replaced ? fresh : old) || now == fresh;
    CHECK(whole);
    replaced = replaced || now == fresh;
  });
  CHECK(killed >= 8);  // most kills landed before the run ended
  remove_temporaries(dir);
  fs::remove_all(dir);
}

TEST_CASE("synth killed before its first output leaves no file at all") {
  const fs::path dir = scratch() / "absent";
  fs::create_directories(dir);
  const fs::path out = dir / "never.lpt.gz";
  const std::vector<std::string> args{"synth", "--model", "resnet20", "--dataset", "cifar10",
                                      "--epochs", "200", "--schedule",
                                      "cyclic:3-8/8,cycles=20000", "-q", "-o", out.string()};
  const double full_s = run_seconds(args);
  fs::remove(out);
  const int killed = kill_repeatedly(args, full_s, 6, [&](int) {
    if (fs::exists(out)) {
      // The rename happened: the whole file is there and reads back.
      const pid_t pid = spawn({"bitops", "-q", out.string()});
      CHECK(wait_exit(pid) == 0);
      fs::remove(out);
    }
  });
  CHECK(killed >= 3);
  remove_temporaries(dir);
  fs::remove_all(dir);
}

TEST_CASE("train killed mid-run leaves the old trace or a whole new one that reads back") {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
    WARN("Fashion-MNIST not installed (dataset-fashion-mnist): case skipped");
    return;
  }
  const fs::path dir = scratch() / "train";
  fs::create_directories(dir);
  const fs::path out = dir / "run.lpt";
  const std::vector<std::string> args{"train", "--model", "mlp", "--epochs", "2", "--batch", "64",
                                      "--train-limit", "2048", "--test-limit", "512",
                                      "--threads", "1", "-q", "-o", out.string()};
  const double full_s = run_seconds(args);
  fs::remove(out.string() + ".ckpt");
  const std::string old = "old contents\n";
  std::ofstream(out, std::ios::binary) << old;
  const int killed = kill_repeatedly(args, full_s, 10, [&](int i) {
    INFO("kill " << i);
    fs::remove(out.string() + ".ckpt");  // each run starts afresh
    REQUIRE(fs::exists(out));
    const std::string now = slurp(out);
    if (now != old) {
      const pid_t pid = spawn({"bitops", "-q", out.string()});
      CHECK(wait_exit(pid) == 0);
    }
    std::ofstream(out, std::ios::binary) << old;
  });
  CHECK(killed >= 5);
  remove_temporaries(dir);
  fs::remove_all(dir);
}
