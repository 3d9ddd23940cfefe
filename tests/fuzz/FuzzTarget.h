#pragma once
// What every fuzz target in tests/fuzz shares. A target is one .cpp that defines
//
//   extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
//
// and feeds the bytes to one parser the way a hostile peer or a requester's file would reach it.
// A raven::Error is the expected answer to bad input and is swallowed (fuzz::expectErrors); anything
// else (another exception, an abort, a sanitizer report, a hang) is a bug the fuzzer reports.
//
// The same .cpp builds two ways (tests/fuzz/CMakeLists.txt): with libFuzzer (clang, RAVEN_FUZZ=ON,
// scripts/fuzz.sh) and as a plain program with ReplayMain.cpp (any compiler; CTest replays the seed
// corpus plus a bounded number of mutations of it).
#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QString>
#include <QTemporaryDir>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/Error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace raven::fuzz {

// Runs f; a raven::Error (the parser refusing bad input) is the expected outcome and is ignored.
template <typename F>
void expectErrors(F&& f) {
    try {
        f();
    } catch (const raven::Error&) {
    }
}

// Reads a fuzz input as a sequence of fields. Past the end every read gives zeros or empty bytes, so
// that any input is a valid (if short) sequence.
class Reader {
public:
    Reader(const std::uint8_t* data, std::size_t size) : p_(data), left_(size) {}

    std::uint8_t u8() {
        if (left_ == 0) return 0;
        --left_;
        return *p_++;
    }
    std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
    // Up to n bytes.
    QByteArray bytes(std::size_t n) {
        n = std::min(n, left_);
        QByteArray out(reinterpret_cast<const char*>(p_), static_cast<qsizetype>(n));
        p_ += n;
        left_ -= n;
        return out;
    }
    // A piece of at most 65535 bytes, prefixed by its little-endian u16 length.
    QByteArray piece() { return bytes(u16()); }
    QByteArray rest() { return bytes(left_); }
    bool done() const { return left_ == 0; }

private:
    const std::uint8_t* p_;
    std::size_t left_;
};

// Appends a piece in the layout Reader::piece reads (for the corpus writer).
inline void appendPiece(QByteArray& out, const QByteArray& piece) {
    const auto n = static_cast<std::uint16_t>(std::min<qsizetype>(piece.size(), 65535));
    out.append(static_cast<char>(n & 0xff));
    out.append(static_cast<char>(n >> 8));
    out.append(piece.left(n));
}

// Files for the parsers that read paths (the dataset importers): one private directory per process,
// files overwritten for each input. Kept on /dev/shm when there is one, so nothing touches the disk.
class Scratch {
public:
    static Scratch& instance() {
        static Scratch scratch;
        return scratch;
    }
    // Writes `bytes` to `name` in the scratch directory and returns its path.
    QString write(const QString& name, const QByteArray& bytes) {
        const QString path = dir_->filePath(name);
        QFile f(path);
        const bool written = f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(bytes) == bytes.size();
        RAVEN_ASSERT(written, "fuzz scratch: cannot write " + path.toStdString());
        return path;
    }

private:
    Scratch() {
        if (QDir("/dev/shm").exists()) dir_ = std::make_unique<QTemporaryDir>("/dev/shm/raven-fuzz-XXXXXX");
        if (!dir_ || !dir_->isValid()) dir_ = std::make_unique<QTemporaryDir>();
        RAVEN_ASSERT(dir_->isValid(), "fuzz scratch: cannot create a temporary directory");
    }
    std::unique_ptr<QTemporaryDir> dir_;
};

}  // namespace raven::fuzz
