#pragma once
// Runs the PyTorch reference scripts of this folder (torch_models.py, optim_reference.py).
// The interpreter is $RAVEN_PYTHON when it can import torch, else Debian's /usr/bin/python3 (a
// pyenv or venv python3 on PATH often lacks python3-torch); tests QSKIP only when neither has torch.
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QtTest>

#include <string>

namespace nntest {

inline QString sourceDir() { return qEnvironmentVariable("RAVEN_SOURCE_DIR", QStringLiteral(RAVEN_TEST_SOURCE_DIR)); }

inline QString torchPython() {
    static const QString found = [] {
        QStringList candidates;
        if (qEnvironmentVariableIsSet("RAVEN_PYTHON")) candidates << qEnvironmentVariable("RAVEN_PYTHON");
        candidates << "/usr/bin/python3"
                   << "python3";
        for (const QString& python : candidates) {
            QProcess p;
            p.start(python, {"-c", "import torch"});
            if (p.waitForFinished(60000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0) return python;
        }
        return QString();
    }();
    return found;
}

// Runs tests/nn/<script> with args; returns stdout, fails the test on a non-zero exit.
inline QByteArray runPeer(const QString& script, const QStringList& args, bool* ok) {
    QProcess p;
    p.setWorkingDirectory(sourceDir() + "/tests/nn");
    p.start(torchPython(), QStringList{sourceDir() + "/tests/nn/" + script} + args);
    *ok = p.waitForFinished(120000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    if (!*ok) qWarning().noquote() << "peer failed:" << script << args.join(' ') << "\n" << p.readAllStandardError();
    return p.readAllStandardOutput();
}

}  // namespace nntest

#define REQUIRE_TORCH()                                                                              \
    do {                                                                                             \
        if (nntest::torchPython().isEmpty()) QSKIP("no python3 with torch (install python3-torch)"); \
    } while (false)
