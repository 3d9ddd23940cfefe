#pragma once
// A self-overwriting status line on stderr ("uploading shards 120/2188", "step 37/100 [===>  ] ...").
// On a terminal every show() redraws it; when stderr is a file or a pipe, a line is written at most
// every few seconds (and always when `important`), so that logs stay readable.
#include <QElapsedTimer>
#include <QString>

namespace raven::cli {

class StatusLine {
public:
    StatusLine();
    void show(const QString& text, bool important = false);
    // Erases the line (before printing something else).
    void clear();

    // "[=======>          ]" for done of total, `width` characters inside the brackets.
    static QString bar(double done, double total, int width = 24);

private:
    bool terminal_;
    bool shown_ = false;
    QElapsedTimer sinceLastLine_;
};

}  // namespace raven::cli
