#include "ErrorText.h"

namespace raven::app {

namespace {
QString asOneSentence(QString text) {
    text = text.trimmed();
    if (text.isEmpty()) return text;
    text[0] = text[0].toUpper();
    // "Browse…" and "(x.npy)." end a sentence as they are; only a bare end gets a stop.
    if (!text.endsWith(QLatin1Char('.')) && !text.endsWith(QChar(0x2026)) && !text.endsWith(QLatin1Char('?')) &&
        !text.endsWith(QLatin1Char('!')))
        text += QLatin1Char('.');
    return text;
}
}  // namespace

QString errorSentences(const QString& message, const QString& hint) {
    const QString first = asOneSentence(message);
    const QString second = asOneSentence(hint);
    if (first.isEmpty()) return second;
    return second.isEmpty() ? first : first + QLatin1Char(' ') + second;
}

}  // namespace raven::app
