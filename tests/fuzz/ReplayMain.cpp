// A main() for the fuzz targets without libFuzzer: replays files, then mutations of them.
//
//   fuzz_replay_npy [--seconds S] [--mutations N] [--seed K] corpus-dir-or-file...
//
// Every file (directories are read recursively) goes through LLVMFuzzerTestOneInput as is; then
// up to N mutated copies (default 200000), stopping after S seconds (default 10): bit flips, bytes
// set to boundary values, 16/32/64-bit boundary integers in both byte orders, long digit runs
// (for text formats), insertions, deletions, duplicated ranges, truncations and splices of two
// inputs. The mutations are seeded (--seed, default 1), so a failure reproduces; the input being
// run when a target crashes is written to ./fuzz-replay-crash (replay it with the libFuzzer build).
// A crash, an abort or an exception other than raven::Error ends the program abnormally, which
// fails the CTest test. This is CI's short run; scripts/fuzz.sh is the real one (libFuzzer).
#include <QByteArray>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "FuzzTarget.h"

namespace {

class Rng {
public:
    explicit Rng(std::uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 1) {}
    std::uint64_t next() {  // splitmix64
        std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    std::size_t below(std::size_t n) { return n ? static_cast<std::size_t>(next() % n) : 0; }

private:
    std::uint64_t s_;
};

constexpr qsizetype kMaxInput = 1 << 16;

void putInteger(QByteArray& b, Rng& rng) {
    static const std::uint64_t values[] = {0,          1,          0x7f,       0x80,       0xff,
                                           0x7fff,     0x8000,     0xffff,     0x7fffffff, 0x80000000,
                                           0xffffffff, 1ull << 32, 1ull << 40, 1ull << 62, 0x7fffffffffffffffull,
                                           1ull << 63, ~0ull,      0xfffffffe, 1000000000, 3037000500ull};
    const std::uint64_t v = values[rng.below(std::size(values))];
    const int width = 1 << rng.below(4);  // 1, 2, 4 or 8 bytes
    if (b.size() < width) return;
    const auto at = static_cast<qsizetype>(rng.below(static_cast<std::size_t>(b.size() - width + 1)));
    const bool big = rng.below(2);
    for (int i = 0; i < width; ++i) {
        const int shift = 8 * (big ? width - 1 - i : i);
        b[at + i] = static_cast<char>((v >> shift) & 0xff);
    }
}

QByteArray mutate(const QByteArray& seed, const std::vector<QByteArray>& all, Rng& rng) {
    QByteArray b = seed;
    const int steps = 1 + static_cast<int>(rng.below(4));
    for (int s = 0; s < steps; ++s) {
        const auto size = static_cast<std::size_t>(b.size());
        switch (rng.below(10)) {
            case 0:  // flip a bit
                if (size) b[static_cast<qsizetype>(rng.below(size))] ^= static_cast<char>(1 << rng.below(8));
                break;
            case 1: {  // a byte to a boundary value
                static const unsigned char bytes[] = {0, 1, 0x7f, 0x80, 0xff, '0', '9', '-', '"', ',', '[', ']'};
                if (size)
                    b[static_cast<qsizetype>(rng.below(size))] = static_cast<char>(bytes[rng.below(sizeof bytes)]);
                break;
            }
            case 2:
                putInteger(b, rng);
                break;
            case 3: {  // a long run of digits where a digit was (JSON, npy shapes, CSV cells)
                std::vector<qsizetype> digits;
                for (qsizetype i = 0; i < b.size(); ++i)
                    if (b[i] >= '0' && b[i] <= '9') digits.push_back(i);
                if (digits.empty()) break;
                static const char* runs[] = {
                    "9999999999", "99999999999999999999", "4294967296", "9223372036854775807", "-1",
                    "1e308",      "3037000500",           "0"};
                b.insert(digits[rng.below(digits.size())], runs[rng.below(std::size(runs))]);
                break;
            }
            case 4: {  // insert random bytes
                const auto at = static_cast<qsizetype>(rng.below(size + 1));
                QByteArray ins;
                for (std::size_t i = 0, n = 1 + rng.below(8); i < n; ++i) ins.append(static_cast<char>(rng.next()));
                b.insert(at, ins);
                break;
            }
            case 5:  // erase a range
                if (size) {
                    const auto at = static_cast<qsizetype>(rng.below(size));
                    b.remove(at, static_cast<qsizetype>(1 + rng.below(std::min<std::size_t>(size - at, 64))));
                }
                break;
            case 6:  // duplicate a range
                if (size) {
                    const auto at = static_cast<qsizetype>(rng.below(size));
                    const auto n = static_cast<qsizetype>(1 + rng.below(std::min<std::size_t>(size - at, 256)));
                    b.insert(static_cast<qsizetype>(rng.below(size + 1)), b.mid(at, n));
                }
                break;
            case 7:  // truncate
                if (size) b.truncate(static_cast<qsizetype>(rng.below(size)));
                break;
            case 8: {  // splice: our head, another input's tail
                const QByteArray& other = all[rng.below(all.size())];
                b = b.left(static_cast<qsizetype>(rng.below(size + 1))) +
                    other.mid(static_cast<qsizetype>(rng.below(static_cast<std::size_t>(other.size()) + 1)));
                break;
            }
            default:  // several random bytes
                for (int i = 0; i < 4 && size; ++i)
                    b[static_cast<qsizetype>(rng.below(size))] = static_cast<char>(rng.next());
                break;
        }
        if (b.size() > kMaxInput) b.truncate(kMaxInput);
    }
    return b;
}

// The input being run, saved to ./fuzz-replay-crash when the target crashes (async-signal-safe).
const QByteArray* current = nullptr;

extern "C" void saveCurrent(int sig) {
    if (current) {
        const int fd = ::open("fuzz-replay-crash", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            [[maybe_unused]] const auto n =
                ::write(fd, current->constData(), static_cast<std::size_t>(current->size()));
            ::close(fd);
        }
        static const char msg[] = "fuzz replay: crashed; the input is in ./fuzz-replay-crash\n";
        [[maybe_unused]] const auto m = ::write(2, msg, sizeof msg - 1);
    }
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

void run(const QByteArray& input) {
    current = &input;
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.constData()),
                           static_cast<std::size_t>(input.size()));
    current = nullptr;
}

[[noreturn]] void usage() {
    std::fprintf(stderr, "usage: fuzz_replay_<target> [--seconds S] [--mutations N] [--seed K] corpus...\n");
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 10;
    long mutations = 200000;
    std::uint64_t seed = 1;
    std::vector<QString> paths;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "--seconds" || a == "--mutations" || a == "--seed") && i + 1 < argc) {
            const char* v = argv[++i];
            if (a == "--seconds") seconds = std::atof(v);
            if (a == "--mutations") mutations = std::atol(v);
            if (a == "--seed") seed = std::strtoull(v, nullptr, 10);
        } else if (a.starts_with("--")) {
            usage();
        } else {
            paths.push_back(QString::fromLocal8Bit(argv[i]));
        }
    }
    if (paths.empty()) usage();

    std::vector<QByteArray> corpus;
    for (const QString& path : paths) {
        QStringList files;
        if (QFileInfo(path).isDir()) {
            QDirIterator it(path, QDir::Files, QDirIterator::Subdirectories);
            while (it.hasNext()) files << it.next();
            files.sort();
        } else {
            files << path;
        }
        for (const QString& f : files) {
            QFile file(f);
            if (!file.open(QIODevice::ReadOnly)) {
                std::fprintf(stderr, "fuzz replay: cannot read %s\n", qPrintable(f));
                return 2;
            }
            corpus.push_back(file.readAll());
        }
    }
    if (corpus.empty()) {
        std::fprintf(stderr, "fuzz replay: no input files\n");
        return 2;
    }

    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, saveCurrent);
    for (std::size_t i = 0; i < corpus.size(); ++i) run(corpus[i]);
    Rng rng(seed);
    long done = 0;
    for (; done < mutations && elapsed() < seconds; ++done) {
        const QByteArray input = mutate(corpus[static_cast<std::size_t>(done) % corpus.size()], corpus, rng);
        run(input);
    }
    std::printf("fuzz replay: %zu corpus files and %ld mutations (seed %llu) in %.1f s: no crash\n", corpus.size(),
                done, static_cast<unsigned long long>(seed), elapsed());
    return 0;
}
