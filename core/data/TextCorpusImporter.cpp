#include "data/TextCorpusImporter.h"

#include "base/Error.h"
#include "data/FileBytes.h"
#include "data/Split.h"

#include <QFileInfo>

#include <algorithm>

namespace raven::data {

std::vector<char32_t> decodeUtf8(const QByteArray& utf8, const std::string& origin) {
    std::vector<char32_t> out;
    out.reserve(static_cast<std::size_t>(utf8.size()));
    const auto* p = reinterpret_cast<const unsigned char*>(utf8.constData());
    const auto n = static_cast<std::int64_t>(utf8.size());
    std::int64_t line = 1;
    for (std::int64_t i = 0; i < n;) {
        const unsigned char b = p[i];
        int len = 0;
        char32_t c = 0, min = 0;
        if (b < 0x80) {
            len = 1;
            c = b;
        } else if ((b & 0xE0) == 0xC0) {
            len = 2;
            c = b & 0x1F;
            min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3;
            c = b & 0x0F;
            min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4;
            c = b & 0x07;
            min = 0x10000;
        }
        bool ok = len > 0 && i + len <= n;
        for (int k = 1; ok && k < len; ++k) {
            ok = (p[i + k] & 0xC0) == 0x80;
            c = (c << 6) | (p[i + k] & 0x3F);
        }
        ok = ok && c >= min && c <= 0x10FFFF && !(c >= 0xD800 && c <= 0xDFFF);
        if (!ok)
            fail(origin + ": invalid UTF-8 at byte " + std::to_string(i) + " (line " + std::to_string(line) + ")",
                 "the text corpus must be UTF-8; convert it, e.g. iconv -f LATIN1 -t UTF-8");
        if (c == '\n') ++line;
        out.push_back(c);
        i += len;
    }
    return out;
}

std::string encodeUtf8(char32_t c) {
    std::string s;
    if (c < 0x80) {
        s += char(c);
    } else if (c < 0x800) {
        s += char(0xC0 | (c >> 6));
        s += char(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        s += char(0xE0 | (c >> 12));
        s += char(0x80 | ((c >> 6) & 0x3F));
        s += char(0x80 | (c & 0x3F));
    } else {
        s += char(0xF0 | (c >> 18));
        s += char(0x80 | ((c >> 12) & 0x3F));
        s += char(0x80 | ((c >> 6) & 0x3F));
        s += char(0x80 | (c & 0x3F));
    }
    return s;
}

Dataset textCorpusDataset(const QByteArray& utf8, const std::string& origin, const TextCorpusImportOptions& options) {
    const int T = options.contextLength;
    const int stride = options.stride > 0 ? options.stride : T;
    RAVEN_CHECK(T > 0, "context length " + std::to_string(T) + " is not positive", "give a context length such as 64");
    std::vector<char32_t> text = decodeUtf8(utf8, origin);
    if (!text.empty() && text.front() == 0xFEFF) text.erase(text.begin());  // byte order mark
    const auto L = static_cast<std::int64_t>(text.size());
    RAVEN_CHECK(L >= T + 1,
                origin + ": the text has " + std::to_string(L) + " characters, fewer than context length + 1 (" +
                    std::to_string(T + 1) + ")",
                "use a longer text or a shorter context");

    std::vector<char32_t> vocab = text;
    std::sort(vocab.begin(), vocab.end());
    vocab.erase(std::unique(vocab.begin(), vocab.end()), vocab.end());
    std::vector<std::int32_t> ids(text.size());
    for (std::size_t i = 0; i < text.size(); ++i)
        ids[i] = static_cast<std::int32_t>(std::lower_bound(vocab.begin(), vocab.end(), text[i]) - vocab.begin());

    Samples all({T}, {T});
    const std::int64_t windows = (L - 1 - T) / stride + 1;
    all.reserve(windows);
    std::vector<float> x(static_cast<std::size_t>(T));
    for (std::int64_t w = 0; w < windows; ++w) {
        const auto s = static_cast<std::size_t>(w * stride);
        std::copy(ids.begin() + static_cast<std::ptrdiff_t>(s), ids.begin() + static_cast<std::ptrdiff_t>(s) + T,
                  x.begin());
        all.append(x, std::span<const std::int32_t>(ids.data() + s + 1, static_cast<std::size_t>(T)));
    }

    Dataset ds;
    ds.name = options.name;
    for (char32_t c : vocab) ds.classes.push_back(encodeUtf8(c));
    ds.elementType = vocab.size() <= 256 ? ElementType::U8 : ElementType::I32;
    std::tie(ds.train, ds.test) = splitSamples(all, options.testFraction, options.seed);
    ds.validate(origin);
    ds.normalization = Normalization{};
    return ds;
}

Dataset importTextCorpus(const QString& path, const TextCorpusImportOptions& options) {
    TextCorpusImportOptions o = options;
    if (o.name.empty()) o.name = str(QFileInfo(path).completeBaseName());
    return textCorpusDataset(readSourceFile(path), str(path), o);
}

}  // namespace raven::data
