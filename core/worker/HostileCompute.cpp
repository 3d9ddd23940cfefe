#include "worker/HostileCompute.h"

#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QSaveFile>

#include <cmath>
#include <cstring>
#include <random>

#include "base/Error.h"
#include "protocol/GradientCodec.h"

namespace raven::worker {

namespace {

const QStringList kKinds = {"random", "scale", "sign", "zero", "stale", "copy"};

double unitDraw(const std::string& id) {
    const QByteArray h = QCryptographicHash::hash(QByteArray::fromStdString("cheat:" + id), QCryptographicHash::Sha256);
    std::uint64_t x = 0;
    std::memcpy(&x, h.constData(), sizeof x);
    return static_cast<double>(x >> 11) * 0x1.0p-53;
}

QByteArray bytesOf(const std::vector<float>& values) {
    return QByteArray(reinterpret_cast<const char*>(values.data()),
                      static_cast<qsizetype>(values.size() * sizeof(float)));
}

}  // namespace

HostileCompute::HostileCompute(HostileOptions options) : options_(std::move(options)) {
    RAVEN_CHECK(kKinds.contains(options_.kind), "--cheat " + options_.kind.toStdString() + " is not a way to cheat",
                "use one of " + kKinds.join(", ").toStdString());
    RAVEN_CHECK(options_.rate >= 0.0 && options_.rate <= 1.0, "--cheat-rate must be in [0, 1]", "e.g. 0.3");
    RAVEN_CHECK(options_.kind != "copy" || !options_.shareDir.isEmpty(), "--cheat copy needs --cheat-share DIR",
                "give every hostile worker of the bed the same folder");
    if (!options_.shareDir.isEmpty()) QDir().mkpath(options_.shareDir);
}

bool HostileCompute::cheatsOn(const wire::WorkUnit& unit) const {
    return seen_ > options_.after && unitDraw(unit.id()) < options_.rate;
}

void HostileCompute::tamper(const wire::WorkUnit& unit, ComputedUnit& done) {
    if (!done.error.isEmpty() || done.parts.empty()) return;
    ++seen_;
    // The honest parts, as the coordinator would take them (with or without their hash).
    protocol::ResultAssembler assembler(done.parts.front().gradient().element_count(),
                                        protocol::ContentAssembler::Unhashed::Taken);
    for (const wire::SubmitResult& part : done.parts) assembler.add(part);
    protocol::WorkResult result = assembler.result();
    const std::vector<float> honest = result.gradient;
    // Drops are named <pid>-<unit>: a copier takes only other workers' results.
    const QString me = QString::number(QCoreApplication::applicationPid()) + QLatin1Char('-');
    if (!options_.shareDir.isEmpty()) {
        QSaveFile drop(QDir(options_.shareDir).filePath(me + QString::fromStdString(unit.id()) + ".f32"));
        if (drop.open(QIODevice::WriteOnly)) {
            drop.write(bytesOf(honest));
            drop.commit();
        }
    }
    if (cheatsOn(unit)) {
        std::vector<float>& g = result.gradient;
        const QString& kind = options_.kind;
        bool changed = true;
        if (kind == "random") {
            double sumSquares = 0;
            for (float v : g) sumSquares += static_cast<double>(v) * v;
            const double rms = g.empty() ? 0.0 : std::sqrt(sumSquares / static_cast<double>(g.size()));
            std::mt19937 random(static_cast<std::uint32_t>(unitDraw(unit.id()) * 4294967295.0));
            std::normal_distribution<float> noise(0.0f, static_cast<float>(rms));
            for (float& v : g) v = noise(random);
        } else if (kind == "scale") {
            const float factor = options_.factor != 0.0 ? static_cast<float>(options_.factor) : 2.0f;
            for (float& v : g) v *= factor;
        } else if (kind == "sign") {
            const float factor = options_.factor != 0.0 ? static_cast<float>(options_.factor) : 1.0f;
            for (float& v : g) v = -factor * v;
        } else if (kind == "zero") {
            std::fill(g.begin(), g.end(), 0.0f);
        } else if (kind == "stale") {
            changed = previous_.has_value() && previous_->size() == g.size();
            if (changed) g = *previous_;
        } else {  // copy: another unit's result, the newest dropped by someone else
            changed = false;
            // A unit re-leased after its first worker was caught finds that worker's honest drop of
            // this very unit: copying it would send the right result, which is no cheat at all.
            const QString sameUnit = QLatin1Char('-') + QString::fromStdString(unit.id()) + ".f32";
            const QFileInfoList drops = QDir(options_.shareDir).entryInfoList({"*.f32"}, QDir::Files, QDir::Time);
            for (const QFileInfo& f : drops) {
                if (f.fileName().startsWith(me) || f.fileName().endsWith(sameUnit)) continue;
                QFile file(f.filePath());
                if (!file.open(QIODevice::ReadOnly)) continue;
                const QByteArray bytes = file.readAll();
                if (bytes.size() != static_cast<qsizetype>(g.size() * sizeof(float))) continue;
                std::memcpy(g.data(), bytes.constData(), static_cast<std::size_t>(bytes.size()));
                changed = true;
                break;
            }
        }
        if (changed) {
            ++cheated_;
            std::fprintf(stderr, "raven-worker: HOSTILE: unit %s sent %s\n", unit.id().c_str(), qPrintable(kind));
            const wire::GradientEncoding encoding = done.parts.front().gradient().encoding();
            const bool zstd = done.parts.front().gradient().content().zstd();
            const bool hashed = !done.parts.front().gradient().content().content_sha256().empty();
            done.parts = protocol::makeSubmitResults(result, encoding, zstd, protocol::unitRoundingKey(unit), hashed);
            done.wireBytes = 0;
            for (const wire::SubmitResult& part : done.parts)
                done.wireBytes += static_cast<std::int64_t>(part.ByteSizeLong());
        }
    }
    previous_ = honest;
}

}  // namespace raven::worker
