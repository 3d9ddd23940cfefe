#include "protocol/BoundedText.h"

#include <QByteArray>

#include <algorithm>

namespace raven::protocol {

QString boundText(const QString& text, int maxBytes) {
    // Cheap test first: UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (text.size() * 3 <= maxBytes) return text;
    const QByteArray utf8 = text.toUtf8();
    if (utf8.size() <= maxBytes) return text;
    qsizetype cut = std::max<qsizetype>(0, maxBytes);
    // Never split a character: step back over continuation bytes (10xxxxxx).
    while (cut > 0 && (static_cast<unsigned char>(utf8[cut]) & 0xC0) == 0x80) --cut;
    return QString::fromUtf8(utf8.left(cut)) + QStringLiteral("… (%1 more bytes)").arg(utf8.size() - cut);
}

QString quotePeer(std::string_view text, int maxBytes) {
    // Decode only what can be shown: a peer's string may be megabytes long.
    const auto limit = static_cast<std::size_t>(std::max(0, maxBytes));
    if (text.size() <= limit)
        return boundText(QString::fromUtf8(text.data(), static_cast<qsizetype>(text.size())), maxBytes);
    std::size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return boundText(QString::fromUtf8(text.data(), static_cast<qsizetype>(cut)), maxBytes) +
           QStringLiteral("… (%1 more bytes)").arg(text.size() - cut);
}

QString quotePeer(const QString& text, int maxBytes) { return boundText(text, maxBytes); }

}  // namespace raven::protocol
