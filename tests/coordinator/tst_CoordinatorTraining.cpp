// Whole jobs over real sockets: in-test workers lease units, fetch the manifest, shards and weights,
// compute summed gradients and submit them; the coordinator steps the optimizer. The trained weights
// must equal `raven train --local` (Trainer with shuffleBlock = shard size) with the same seed,
// batch and optimizer, however many workers there are and whoever leaves. Every result counts once
// and is paid once; duplicates and invalid results are not paid; a job out of money stops leasing.
#include <algorithm>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include "CoordinatorTestKit.h"
#include "coordinator/DurableFile.h"
#include "coordinator/ResultFile.h"
#include "nn/Architecture.h"
#include "training/StepPlan.h"

using namespace raven;
using namespace raven::test;

namespace {

qint64 creditEntries(coordinator::Coordinator& c) {
    return c.store()
        .connection()
        .scalar(QStringLiteral("SELECT COUNT(*) FROM entries WHERE kind = 'work_unit_credit'"))
        .toLongLong();
}

}  // namespace

class CoordinatorTrainingTest : public QObject {
    Q_OBJECT

    std::unique_ptr<Deployment> d_;

    void checkFinished(SyncClient& requester, const std::string& job, const wire::Hyperparameters& h) {
        const auto info = d_->jobInfo(requester, job);
        QVERIFY(info.has_value());
        QCOMPARE(info->state(), wire::JOB_STATE_COMPLETED);
        QCOMPARE(info->step(), info->total_steps());
        const QByteArray checkpoint = d_->downloadCheckpoint(requester, job);
        QVERIFY(!checkpoint.isEmpty());
        const double diff = relativeDifference(checkpointWeights(checkpoint), localTraining(d_->dataset, h));
        qInfo("max |coordinator - local| / max |local| = %.3g", diff);
        QVERIFY2(diff < 1e-5, qPrintable(QString::number(diff)));
        // Exactly once: one payment per unit, every unit done, the escrow's rest refunded.
        const ledger::JobId id = std::stoll(job);
        const QList<ledger::WorkUnit> units = d_->coordinator->store().workUnits(id);
        for (const ledger::WorkUnit& u : units) QCOMPARE(u.state, ledger::WorkUnitState::Done);
        QCOMPARE(creditEntries(*d_->coordinator), qint64(units.size()));
        const ledger::JobSpend spend = d_->coordinator->ledger().jobSpend(id);
        QCOMPARE(spend.workUnitsPaid, qint64(units.size()));
        QCOMPARE(spend.escrow, 0);
        QCOMPARE(spend.paid + spend.refunded, spend.funded);
        QCOMPARE(info->spent_micro_credits(), spend.paid);
    }

private slots:
    void init() {
        d_ = std::make_unique<Deployment>();
        d_->start();
    }
    void cleanup() {
        if (d_->coordinator) {
            const ledger::AuditReport audit = d_->coordinator->ledger().audit();
            QVERIFY2(audit.ok(), qPrintable(audit.problems.join("; ")));
        }
        d_.reset();
    }

    void jobMatchesLocalTraining_data() {
        QTest::addColumn<int>("workers");
        QTest::newRow("one worker") << 1;
        QTest::newRow("three workers") << 3;
    }
    void jobMatchesLocalTraining() {
        QFETCH(int, workers);
        auto requester = d_->requester();
        const wire::Hyperparameters h = adamHyperparameters(2);
        QSignalSpy stepped(d_->coordinator.get(), &coordinator::Coordinator::jobStepped);
        QSignalSpy evaluated(d_->coordinator.get(), &coordinator::Coordinator::jobEvaluated);
        QSignalSpy ended(d_->coordinator.get(), &coordinator::Coordinator::jobEnded);
        const std::string job = d_->submitJob(*requester, h);
        const quint64 overSparesBefore = coordinator::filesWrittenOverSpareFiles();

        wire::Envelope subscribe;
        subscribe.mutable_subscribe_metrics()->set_job_id(job);
        std::vector<wire::MetricsUpdate> updates;
        std::vector<wire::JobEvent> events;
        requester->client->request(subscribe, [&](const wire::Envelope& e) {
            if (e.has_metrics_update()) updates.push_back(e.metrics_update());
            if (e.has_job_event()) events.push_back(e.job_event());
            return ProtocolClient::ReplyFlow::More;
        });

        std::vector<std::unique_ptr<TestWorker>> pool;
        for (int i = 0; i < workers; ++i)
            pool.push_back(std::make_unique<TestWorker>(
                d_->coordinator->url(), d_->coordinator->addContributor("w").toStdString(),
                d_->workerDir(QStringLiteral("worker%1").arg(i)), TestWorker::Behaviour{double(i + 1), 2, 0}));
        QTRY_VERIFY_WITH_TIMEOUT(ended.size() == 1, 60000);
        QCOMPARE(ended[0][1].toString(), QStringLiteral("done"));
        for (auto& w : pool) QVERIFY2(w->failures.empty(), w->failureText().c_str());

        QCOMPARE(stepped.size(), 12);
        QCOMPARE(stepped.last()[1].toLongLong(), 12);
        QCOMPARE(evaluated.size(), 3);  // steps 4, 8 and 12 (the end)
        const double accuracy = evaluated.last()[3].toDouble();
        QVERIFY2(accuracy > 0.5, qPrintable(QString::number(accuracy)));
        checkFinished(*requester, job, h);

        // The last acknowledgement may still be on its way when the job ends.
        const auto sum = [&](auto field) {
            qint64 total = 0;
            for (auto& w : pool) total += (*w).*field;
            return total;
        };
        QTRY_COMPARE(sum(&TestWorker::accepted), 22);  // 2 epochs of 6 steps of 2 units, each epoch's last has 1
        QCOMPARE(sum(&TestWorker::credited), d_->coordinator->ledger().jobSpend(std::stoll(job)).paid);
        if (workers == 3) {
            int busy = 0;
            for (auto& w : pool) busy += w->accepted > 0 ? 1 : 0;
            QVERIFY(busy >= 2);
        }

        // The stream: an update per step, evaluations where due, a checkpoint event, the final state.
        QTRY_COMPARE(updates.size(), size_t(12));
        QCOMPARE(updates.back().step(), 12u);
        QVERIFY(updates.back().has_eval_accuracy());
        QVERIFY(updates[3].has_eval_loss());
        QVERIFY(!updates[2].has_eval_loss());
        QVERIFY(updates.front().train_loss() > updates.back().train_loss());
        QVERIFY(updates.back().samples_per_second() > 0);
        QVERIFY(updates.back().active_workers() >= 1);
        QTRY_VERIFY(std::any_of(events.begin(), events.end(), [](const wire::JobEvent& e) {
            return e.kind() == wire::JOB_EVENT_KIND_STATE_CHANGED && e.state() == wire::JOB_STATE_COMPLETED;
        }));
        QVERIFY(std::any_of(events.begin(), events.end(), [](const wire::JobEvent& e) {
            return e.kind() == wire::JOB_EVENT_KIND_CHECKPOINT_WRITTEN;
        }));
        QVERIFY(std::any_of(events.begin(), events.end(),
                            [](const wire::JobEvent& e) { return e.kind() == wire::JOB_EVENT_KIND_WORKER_JOINED; }));

        // A late subscriber gets the history.
        auto late = d_->requester();
        wire::Envelope again = subscribe;
        again.mutable_subscribe_metrics()->set_include_history(true);
        std::vector<wire::MetricsUpdate> replayed;
        late->client->request(again, [&](const wire::Envelope& e) {
            if (e.has_metrics_update()) replayed.push_back(e.metrics_update());
            return ProtocolClient::ReplyFlow::More;
        });
        QTRY_COMPARE(replayed.size(), size_t(12));
        QCOMPARE(replayed[5].train_loss(), updates[5].train_loss());

        // Checkpoints: every 5 steps and the end, the newest three kept; the latest is `raven eval`'s input.
        const QByteArray v10 = d_->downloadCheckpoint(*requester, job, 10);
        QVERIFY(!v10.isEmpty());
        QVERIFY(d_->downloadCheckpoint(*requester, job, 3).isEmpty());
        const QString latest =
            QDir(d_->options.dataDir).filePath(QStringLiteral("jobs/%1/v12.safetensors").arg(job.c_str()));
        auto model = nn::loadModel(latest.toStdString());
        QCOMPARE(model->parameterNames().size(), size_t(4));
        const Checkpoint restored = Checkpoint::read(latest.toStdString());
        QCOMPARE(restored.step, 12);
        QVERIFY(!restored.optimizer.empty());
        QVERIFY(restored.optimizerState.contains("fc1.weight.exp_avg"));
        // Each applied step's result files go (off the event loop, so perhaps a moment later): kept
        // as spares that later steps' results were written over, and those removed when the job ended.
        QVERIFY(coordinator::filesWrittenOverSpareFiles() > overSparesBefore);
        const QDir results(QDir(d_->options.dataDir).filePath(QStringLiteral("jobs/%1/results").arg(job.c_str())));
        QTRY_COMPARE(results.entryList(QDir::Files), QStringList());
        for (auto& w : pool) w->stop();
    }

    void workerLeavingMidStepIsReplaced() {
        auto requester = d_->requester();
        const wire::Hyperparameters h = adamHyperparameters(1);
        QSignalSpy ended(d_->coordinator.get(), &coordinator::Coordinator::jobEnded);
        const std::string job = d_->submitJob(*requester, h);
        // The first worker takes both units of step 0, delivers one and disappears with the other.
        TestWorker leaver(d_->coordinator->url(), d_->coordinator->addContributor("leaver").toStdString(),
                          d_->workerDir("leaver"), TestWorker::Behaviour{1.0, 2, 1});
        QTRY_VERIFY_WITH_TIMEOUT(leaver.gone, 10000);
        QCOMPARE(leaver.accepted, 1);
        QCOMPARE(leaver.unitsLeased, 2);
        // The unit it held goes back to the queue at once (not after the deadline).
        const ledger::JobId id = std::stoll(job);
        QTRY_COMPARE(d_->coordinator->store().workUnits(id, 0, ledger::WorkUnitState::Pending).size(), 1);

        TestWorker stayer(d_->coordinator->url(), d_->coordinator->addContributor("stayer").toStdString(),
                          d_->workerDir("stayer"), TestWorker::Behaviour{1.0, 2, 0});
        QTRY_VERIFY_WITH_TIMEOUT(ended.size() == 1, 60000);
        QVERIFY2(stayer.failures.empty(), stayer.failureText().c_str());
        QTRY_COMPARE(stayer.accepted + leaver.accepted, 11);
        checkFinished(*requester, job, h);
        stayer.stop();
    }

    void duplicatesAndInvalidResultsAreNotPaid() {
        auto requester = d_->requester();
        const std::string job = d_->submitJob(*requester, adamHyperparameters(1));
        const ledger::JobId id = std::stoll(job);
        auto a = d_->contributor();
        auto b = d_->contributor();
        QVERIFY(b->call(registerContributor(100.0)).has_register_reply());  // B is fast: it gets more per grant
        UnitComputer cacheA(d_->workerDir("a")), cacheB(d_->workerDir("b"));

        const wire::Envelope grantA = a->call(leaseRequest(1));
        QCOMPARE(grantA.lease_grant().units_size(), 1);
        const wire::WorkUnit unit = grantA.lease_grant().units(0);
        QCOMPARE(unit.gradient_encoding(), wire::GRADIENT_ENCODING_FP32);
        QVERIFY(!unit.model_spec_json().empty());
        QCOMPARE(QString::fromStdString(unit.dataset_id()), d_->manifest.id);
        QVERIFY(unit.deadline_ms() > static_cast<std::uint64_t>(QDateTime::currentMSecsSinceEpoch()));
        QVERIFY(fetchForUnit(*a, cacheA, unit));
        const protocol::WorkResult good = cacheA.compute(unit);

        // Wrong element count, NaN, wrong sample count: rejected, counted against the sender, unpaid.
        protocol::WorkResult shortResult = good;
        shortResult.gradient.pop_back();
        wire::Envelope ack = submit(*a, shortResult);
        QCOMPARE(ack.result_ack().status(), wire::RESULT_STATUS_REJECTED);
        QVERIFY2(ack.result_ack().reason().find("parameters") != std::string::npos, ack.result_ack().reason().c_str());
        // A rejected result ends that lease: lease the unit again to try once more.
        QCOMPARE(a->call(leaseRequest(1)).lease_grant().units(0).id(), unit.id());
        protocol::WorkResult nan = good;
        nan.gradient[7] = std::nanf("");
        ack = submit(*a, nan);
        QCOMPARE(ack.result_ack().status(), wire::RESULT_STATUS_REJECTED);
        QVERIFY2(ack.result_ack().reason().find("finite") != std::string::npos, ack.result_ack().reason().c_str());
        QCOMPARE(a->call(leaseRequest(1)).lease_grant().units(0).id(), unit.id());
        protocol::WorkResult fewer = good;
        fewer.sampleCount = 31;
        QCOMPARE(submit(*a, fewer).result_ack().status(), wire::RESULT_STATUS_REJECTED);
        QCOMPARE(creditEntries(*d_->coordinator), 0);
        const auto statsA = d_->coordinator->ledger().contributorStats(
            d_->coordinator->store().workUnit(std::stoll(unit.id()))->leaseHolder.value(), 1,
            QDateTime::currentDateTimeUtc());
        QCOMPARE(statsA.resultsRejected, 3);

        // The unit is free again; B takes it; A leases it again too (the straggler rule gives an idle
        // worker a speculative copy of a unit leased for longer than a few unit turnarounds, at
        // least a second, once). The first valid result counts.
        const wire::Envelope grantB = b->call(leaseRequest(2));
        QCOMPARE(grantB.lease_grant().units_size(), 2);  // both units of step 0, the refused one first (it is late)
        const wire::WorkUnit again = grantB.lease_grant().units(0);
        QCOMPARE(again.id(), unit.id());
        QVERIFY(fetchForUnit(*b, cacheB, again));  // inputs are served while the lease is held
        // Until B's lease is old enough, A's requests wait (parked) and come back empty.
        // B keeps its leases alive with heartbeats meanwhile.
        wire::Envelope beat;
        beat.mutable_heartbeat()->set_sent_at_ms(1);
        wire::Envelope speculative = a->call(leaseRequest(1));
        for (int tries = 0; tries < 20 && speculative.lease_grant().units_size() == 0; ++tries) {
            QVERIFY(b->call(beat).has_heartbeat_ack());
            speculative = a->call(leaseRequest(1));
        }
        QVERIFY(b->call(beat).has_heartbeat_ack());
        QCOMPARE(speculative.lease_grant().units(0).id(), unit.id());
        QCOMPARE(a->call(leaseRequest(1)).lease_grant().units_size(), 0);  // only once per unit

        ack = submit(*a, good);
        QCOMPARE(ack.result_ack().status(), wire::RESULT_STATUS_ACCEPTED);
        QVERIFY(ack.result_ack().credited_micro_credits() > 0);
        QCOMPARE(ack.result_ack().credited_micro_credits(),
                 d_->coordinator->ledger().priceOf(d_->coordinator->store().workUnit(std::stoll(unit.id()))->flops));
        ack = submit(*b, cacheB.compute(again));
        QCOMPARE(ack.result_ack().status(), wire::RESULT_STATUS_DUPLICATE);
        QCOMPARE(ack.result_ack().credited_micro_credits(), 0);
        ack = submit(*a, good);  // the same sender again
        QCOMPARE(ack.result_ack().status(), wire::RESULT_STATUS_DUPLICATE);
        QCOMPARE(creditEntries(*d_->coordinator), 1);

        // Stats: B's duplicate shows; A's earnings are its one credit.
        wire::Envelope statsQuery;
        statsQuery.mutable_contributor_stats_query()->set_days(3);
        const wire::Envelope statsB = b->call(statsQuery);
        QVERIFY2(statsB.has_contributor_stats(), text(statsB).c_str());
        QCOMPARE(statsB.contributor_stats().work_units_duplicate(), 1u);
        QCOMPARE(statsB.contributor_stats().micro_credits(), 0);
        QCOMPARE(statsB.contributor_stats().per_day_size(), 3);
        const wire::Envelope statsOfA = a->call(statsQuery);
        QCOMPARE(statsOfA.contributor_stats().work_units_accepted(), 1u);
        QCOMPARE(statsOfA.contributor_stats().per_day(2).work_units(), 1u);  // today's
        QCOMPARE(statsB.contributor_stats().per_day(2).work_units(), 0u);
        QCOMPARE(statsOfA.contributor_stats().work_units_rejected(), 3u);
        statsQuery.mutable_contributor_stats_query()->set_contributor_id(statsB.contributor_stats().contributor_id());
        QCOMPARE(a->call(statsQuery).error().code(), wire::ERROR_CODE_PERMISSION_DENIED);

        // Finishing step 0 moves the job to version 1; the old unit's weights are still served once,
        // older ones are gone (a stale unit: the worker drops it).
        const wire::WorkUnit second = grantB.lease_grant().units(1);
        QVERIFY(fetchForUnit(*b, cacheB, second));
        QCOMPARE(submit(*b, cacheB.compute(second)).result_ack().status(), wire::RESULT_STATUS_ACCEPTED);
        QTRY_COMPARE(d_->coordinator->store().job(id)->modelVersion, 1);
        wire::Envelope weights;
        weights.mutable_fetch_weights()->set_job_id(job);
        weights.mutable_fetch_weights()->set_model_version(5);
        QCOMPARE(b->fetch(weights).error->code(), wire::ERROR_CODE_NOT_FOUND);
        weights.mutable_fetch_weights()->set_model_version(1);
        QCOMPARE(b->fetch(weights).error->code(), wire::ERROR_CODE_NOT_FOUND);  // no lease of B's needs them yet
        QCOMPARE(b->call(leaseRequest(1)).lease_grant().units(0).model_version(), 1u);
        QVERIFY(!b->fetch(weights).error);
    }

    // The job's kernel mode travels in each unit; a result computed with other kernels is refused
    // (not counted against its sender: an older worker); the accepted one's durable record names it.
    void aVerifiableJobsUnitsAndResultsCarryTheMode() {
        auto requester = d_->requester();
        wire::Hyperparameters h = adamHyperparameters(1);
        h.set_kernel_mode(wire::KERNEL_MODE_VERIFIABLE);
        const std::string job = d_->submitJob(*requester, h);
        QCOMPARE(d_->jobInfo(*requester, job)->hyperparameters().kernel_mode(), wire::KERNEL_MODE_VERIFIABLE);
        auto a = d_->contributor();
        UnitComputer cache(d_->workerDir("a"));
        const wire::Envelope grant = a->call(leaseRequest(1));
        QCOMPARE(grant.lease_grant().units_size(), 1);
        const wire::WorkUnit unit = grant.lease_grant().units(0);
        QCOMPARE(unit.kernel_mode(), wire::KERNEL_MODE_VERIFIABLE);
        QVERIFY(fetchForUnit(*a, cache, unit));
        const protocol::WorkResult good = cache.compute(unit);
        QCOMPARE(good.kernelMode, wire::KERNEL_MODE_VERIFIABLE);

        protocol::WorkResult fast = good;
        fast.kernelMode = wire::KERNEL_MODE_FAST;
        wire::Envelope ack = submit(*a, fast);
        QCOMPARE(ack.result_ack().status(), wire::RESULT_STATUS_REJECTED);
        QVERIFY2(ack.result_ack().reason().find("update raven-worker") != std::string::npos,
                 ack.result_ack().reason().c_str());
        ack = submit(*a, good);  // its lease stands: the refusal was not counted against it
        QCOMPARE(ack.result_ack().status(), wire::RESULT_STATUS_ACCEPTED);
        const QString path = QDir(d_->options.dataDir)
                                 .filePath(QStringLiteral("jobs/%1/results/%2.result").arg(job.c_str(), unit.id().c_str()));
        QCOMPARE(coordinator::ResultFile::info(path).value("kernel_mode").toString(), QStringLiteral("verifiable"));
    }

    void expiredAndSilentLeasesAreReissued() {
        d_->coordinator.reset();
        d_->options.unitDeadlineMs = 600;
        d_->options.leaseTimeoutMs = 60000;
        d_->start();
        auto requester = d_->requester();
        const std::string job = d_->submitJob(*requester, adamHyperparameters(1));
        auto a = d_->contributor();
        auto b = d_->contributor();
        const wire::Envelope grantA = a->call(leaseRequest(1));
        QCOMPARE(grantA.lease_grant().units_size(), 1);
        const std::string unit = grantA.lease_grant().units(0).id();
        UnitComputer cacheA(d_->workerDir("a"));
        QVERIFY(fetchForUnit(*a, cacheA, grantA.lease_grant().units(0)));  // while A holds the lease
        // B gets the other unit now, and A's once its deadline has passed (A has not spoken since).
        const wire::Envelope first = b->call(leaseRequest(4));
        QCOMPARE(first.lease_grant().units_size(), 1);
        QVERIFY(first.lease_grant().units(0).id() != unit);
        QTRY_COMPARE_WITH_TIMEOUT(d_->coordinator->store().workUnit(std::stoll(unit))->state,
                                  ledger::WorkUnitState::Expired, 5000);
        // B is offered A's expired unit. When the machine is slow, B's own 600 ms deadline passes in the
        // same tick as A's: B then holds nothing, both units wait, B's fair share of two waiting units
        // between two workers is one, and it gets its own back first (it is in place). Its next request
        // must then bring A's unit; a coordinator that never re-issues expired units fails here.
        bool offered = false;
        for (int ask = 0; ask < 3 && !offered; ++ask) {
            const wire::Envelope again = b->call(leaseRequest(4));
            offered = std::any_of(again.lease_grant().units().begin(), again.lease_grant().units().end(),
                                  [&](const wire::WorkUnit& u) { return u.id() == unit; });
        }
        QVERIFY2(offered, "A's expired unit was not offered to B in three lease requests");
        // Late work is still good work: A's result, first in, counts.
        QCOMPARE(submit(*a, cacheA.compute(grantA.lease_grant().units(0))).result_ack().status(),
                 wire::RESULT_STATUS_ACCEPTED);

        // A worker that falls silent loses its leases after leaseTimeoutMs, without waiting for deadlines.
        d_->coordinator.reset();
        a.reset();
        b.reset();
        d_->options.unitDeadlineMs = 60000;
        d_->options.leaseTimeoutMs = 500;
        d_->start();
        auto silent = d_->contributor();
        auto active = d_->contributor();
        const ledger::JobId id = std::stoll(job);
        QList<ledger::WorkUnit> before;  // the unit B held (or let expire) before the coordinator restarted
        for (const ledger::WorkUnit& u : d_->coordinator->store().workUnits(id, 0))
            if (u.state != ledger::WorkUnitState::Done) before << u;
        QCOMPARE(before.size(), 1);
        QCOMPARE(silent->call(leaseRequest(1)).lease_grant().units_size(), 1);
        QCOMPARE(d_->coordinator->store().workUnit(before[0].id)->state, ledger::WorkUnitState::Leased);
        wire::Envelope beat;
        beat.mutable_heartbeat()->set_sent_at_ms(1);
        QVERIFY(QTest::qWaitFor(
            [&] {
                active->call(beat);  // the active one keeps in touch
                return d_->coordinator->store().workUnit(before[0].id)->state == ledger::WorkUnitState::Pending;
            },
            5000));
        QCOMPARE(active->call(leaseRequest(1)).lease_grant().units(0).id(), std::to_string(before[0].id));
    }

    void priorityThenAgeOrdersJobs() {
        auto requester = d_->requester();
        const std::string older = d_->submitJob(*requester, adamHyperparameters(1));
        const std::string spec = requester->call(uploadSpecRequest(testing::kSyntheticMlpSpec))
                                     .upload_model_spec_reply()
                                     .model_spec_sha256();
        const wire::Envelope urgent = requester->call(
            createJobRequest(d_->manifest.id.toStdString(), spec, adamHyperparameters(1), 1'000'000, 5));
        const std::string newer = d_->submitJob(*requester, adamHyperparameters(1));
        // New workers hold two units each until they deliver (docs/security.md): three of them take
        // the urgent job's step, then the older job's, then the newer one's.
        // (Each new worker lowers the next one's share: the first two take two units, the third one.)
        std::vector<std::string> order;
        std::vector<std::unique_ptr<SyncClient>> workers;
        for (int i = 0; i < 3; ++i) {
            workers.push_back(d_->contributor());
            const wire::Envelope grant = workers.back()->call(leaseRequest(6));
            QVERIFY(grant.lease_grant().units_size() >= 1);  // a speed-proportional share, at most two
            QVERIFY(grant.lease_grant().units_size() <= 2);
            for (const wire::WorkUnit& u : grant.lease_grant().units()) order.push_back(u.job_id());
        }
        QCOMPARE(order[0], urgent.job_info().job_id());
        QCOMPARE(order[1], urgent.job_info().job_id());
        QCOMPARE(order[2], older);
        QCOMPARE(order[4], newer);
    }

    void budgetExhaustionStopsLeasing() {
        auto requester = d_->requester();
        // Enough for the first three units (of one shard each) and half the fourth: its lease is refused.
        const double flopsPerSample =
            nn::Architecture(nn::ModelSpec::parse(testing::kSyntheticMlpSpec)).trainingFlopsPerSample();
        const training::StepPlan plan(d_->manifest, {64, 1, 0, 4});
        std::vector<ledger::MicroCredits> prices;
        for (int step = 0; step < 2; ++step)
            for (const data::ShardRef& shard : plan.shardsOfStep(step))
                prices.push_back(std::llround(static_cast<double>(shard.samples) * flopsPerSample));
        const ledger::MicroCredits threeUnits = prices[0] + prices[1] + prices[2];
        const std::string job = d_->submitJob(*requester, adamHyperparameters(1), threeUnits + prices[3] / 2);
        wire::Envelope subscribe;
        subscribe.mutable_subscribe_metrics()->set_job_id(job);
        std::vector<wire::JobEvent> events;
        requester->client->request(subscribe, [&](const wire::Envelope& e) {
            if (e.has_job_event()) events.push_back(e.job_event());
            return ProtocolClient::ReplyFlow::More;
        });
        TestWorker worker(d_->coordinator->url(), d_->coordinator->addContributor("w").toStdString(),
                          d_->workerDir("w"), TestWorker::Behaviour{1.0, 1, 0});
        QTRY_VERIFY_WITH_TIMEOUT(worker.accepted == 3 && worker.emptyGrants >= 3, 20000);
        QCOMPARE(worker.unitsLeased, 3);
        QVERIFY2(worker.failures.empty(), worker.failureText().c_str());
        const auto info = d_->jobInfo(*requester, job);
        QCOMPARE(info->state(), wire::JOB_STATE_BUDGET_EXHAUSTED);
        QCOMPARE(info->step(), 1u);
        QCOMPARE(info->spent_micro_credits(), threeUnits);
        QVERIFY(std::any_of(events.begin(), events.end(),
                            [](const wire::JobEvent& e) { return e.kind() == wire::JOB_EVENT_KIND_BUDGET_LOW; }));

        // More money and a resume: the job runs to the end.
        QSignalSpy ended(d_->coordinator.get(), &coordinator::Coordinator::jobEnded);
        d_->coordinator->ledger().fundJob(std::stoll(job), 100 * prices[0], QDateTime::currentDateTimeUtc());
        QCOMPARE(requester->call(controlJobRequest(job, wire::JOB_ACTION_RESUME)).job_info().state(),
                 wire::JOB_STATE_RUNNING);
        QTRY_VERIFY_WITH_TIMEOUT(ended.size() == 1, 30000);
        checkFinished(*requester, job, adamHyperparameters(1));
        worker.stop();
    }
};

QTEST_GUILESS_MAIN(CoordinatorTrainingTest)
#include "tst_CoordinatorTraining.moc"
