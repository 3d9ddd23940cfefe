// The coordinator's front door over real TLS sockets: authentication and permissions, open
// enrollment, bad requests answered with an error while the connection and other clients carry on,
// dataset and spec uploads (content-addressed: a second upload costs nothing), CreateJob's checks,
// and the job controls and queries a requester has.
#include <QtTest>

#include "CoordinatorTestKit.h"
#include "protocol/Framing.h"
#include "protocol/TestPeers.h"

using namespace raven;
using namespace raven::test;

namespace {

wire::ErrorCode codeOf(const wire::Envelope& e) {
    return e.has_error() ? e.error().code() : wire::ERROR_CODE_UNSPECIFIED;
}

wire::Envelope heartbeat() {
    wire::Envelope e;
    e.mutable_heartbeat()->set_sent_at_ms(1);
    return e;
}

}  // namespace

class CoordinatorRequestsTest : public QObject {
    Q_OBJECT

    std::unique_ptr<Deployment> d_;

    std::string uploadSpec(SyncClient& requester) {
        const wire::Envelope spec = requester.call(uploadSpecRequest(testing::kSyntheticMlpSpec));
        return spec.upload_model_spec_reply().model_spec_sha256();
    }

private slots:
    void init() {
        d_ = std::make_unique<Deployment>();
        d_->start();
    }
    void cleanup() {
        if (d_->coordinator)
            QVERIFY2(d_->coordinator->ledger().audit().ok(),
                     qPrintable(d_->coordinator->ledger().audit().problems.join("; ")));
        d_.reset();
    }

    void everyRequestNeedsAuthentication() {
        SyncClient anonymous(d_->coordinator->url(), wire::ROLE_CONTRIBUTOR, d_->knownHosts());
        QVERIFY(anonymous.ready());
        QCOMPARE(codeOf(anonymous.call(heartbeat())), wire::ERROR_CODE_UNAUTHENTICATED);
        QCOMPARE(codeOf(anonymous.call(leaseRequest(1))), wire::ERROR_CODE_UNAUTHENTICATED);
        QCOMPARE(codeOf(anonymous.call(listJobsRequest())), wire::ERROR_CODE_UNAUTHENTICATED);
        // Without open enrollment a contributor cannot register itself.
        const wire::Envelope reg = anonymous.call(registerContributor());
        QCOMPARE(codeOf(reg), wire::ERROR_CODE_UNAUTHENTICATED);
        QVERIFY(!reg.error().hint().empty());

        const wire::Envelope refused = anonymous.call(authenticateWithToken("not-a-token"));
        QVERIFY(refused.has_auth_result());
        QVERIFY(!refused.auth_result().accepted());
        QVERIFY(!refused.auth_result().reason().empty());
        QCOMPARE(codeOf(anonymous.call(heartbeat())), wire::ERROR_CODE_UNAUTHENTICATED);

        const std::string token = d_->coordinator->addContributor("box").toStdString();
        const wire::Envelope accepted = anonymous.call(authenticateWithToken(token));
        QVERIFY(accepted.auth_result().accepted());
        QVERIFY(!accepted.auth_result().principal_id().empty());
        QVERIFY(anonymous.call(heartbeat()).has_heartbeat_ack());
        const wire::Envelope registered = anonymous.call(registerContributor(12.5, 3));
        QVERIFY2(registered.has_register_reply(), text(registered).c_str());
        QCOMPARE(registered.register_reply().contributor_id(), accepted.auth_result().principal_id());
        QCOMPARE(registered.register_reply().heartbeat_interval_ms(), 400u);
        QCOMPARE(registered.register_reply().lease_timeout_ms(), 2000u);
        QVERIFY(registered.register_reply().contributor_token().empty());
        const auto stored = d_->coordinator->store().contributor(std::stoll(accepted.auth_result().principal_id()));
        QCOMPARE(stored->measuredGflops, 12.5);
        QCOMPARE(stored->devices.size(), 1);
    }

    void rolesArePermissions() {
        auto requester = d_->requester();
        auto contributor = d_->contributor();
        QCOMPARE(codeOf(requester->call(leaseRequest(1))), wire::ERROR_CODE_PERMISSION_DENIED);
        QCOMPARE(codeOf(requester->call(registerContributor())), wire::ERROR_CODE_PERMISSION_DENIED);
        wire::Envelope weights;
        weights.mutable_fetch_weights()->set_job_id("1");
        QCOMPARE(codeOf(requester->call(weights)), wire::ERROR_CODE_PERMISSION_DENIED);
        QCOMPARE(codeOf(contributor->call(listJobsRequest())), wire::ERROR_CODE_PERMISSION_DENIED);
        QCOMPARE(codeOf(contributor->call(uploadSpecRequest(testing::kSyntheticMlpSpec))),
                 wire::ERROR_CODE_PERMISSION_DENIED);
        QCOMPARE(codeOf(contributor->call(createJobRequest("x", "y", adamHyperparameters(), 1))),
                 wire::ERROR_CODE_PERMISSION_DENIED);

        // Each sees its own balance.
        wire::Envelope balance;
        balance.mutable_balance_query();
        const wire::Envelope funds = requester->call(balance);
        QCOMPARE(funds.balance().micro_credits(), 100 * ledger::kMicroCreditsPerCredit);
        QVERIFY(funds.balance().account().rfind("requester:", 0) == 0);
        QCOMPARE(contributor->call(balance).balance().micro_credits(), 0);

        // A requester's job is not another requester's.
        const std::string job = d_->submitJob(*requester, adamHyperparameters());
        const std::string otherKey = d_->coordinator->addRequester("bo", 0).toStdString();
        SyncClient other(d_->coordinator->url(), wire::ROLE_REQUESTER, d_->knownHosts());
        QVERIFY(other.call(authenticateWithKey(otherKey)).auth_result().accepted());
        QCOMPARE(codeOf(other.call(controlJobRequest(job, wire::JOB_ACTION_CANCEL))),
                 wire::ERROR_CODE_PERMISSION_DENIED);
        QCOMPARE(other.call(listJobsRequest()).job_list().jobs_size(), 0);
        QCOMPARE(requester->call(listJobsRequest()).job_list().jobs_size(), 1);
    }

    void openEnrollmentIssuesATokenOnce() {
        d_->coordinator.reset();
        d_->options.openEnrollment = true;
        d_->start();
        SyncClient worker(d_->coordinator->url(), wire::ROLE_CONTRIBUTOR, d_->knownHosts());
        const wire::Envelope reg = worker.call(registerContributor(3.0));
        QVERIFY2(reg.has_register_reply(), text(reg).c_str());
        const std::string token = reg.register_reply().contributor_token();
        QVERIFY(token.size() >= 40);
        QVERIFY(worker.call(leaseRequest(1)).has_lease_grant());  // the session is now the new contributor's

        SyncClient again(d_->coordinator->url(), wire::ROLE_CONTRIBUTOR, d_->knownHosts());
        const wire::Envelope auth = again.call(authenticateWithToken(token));
        QVERIFY(auth.auth_result().accepted());
        QCOMPARE(auth.auth_result().principal_id(), reg.register_reply().contributor_id());
        const wire::Envelope reregistered = again.call(registerContributor(4.0));
        QVERIFY(reregistered.register_reply().contributor_token().empty());
    }

    void badRequestsAreAnsweredAndOthersCarryOn() {
        auto requester = d_->requester();
        auto contributor = d_->contributor();
        RawPeer raw;
        QVERIFY(raw.open(d_->coordinator->url()));
        QVERIFY(raw.sayHello());

        wire::Envelope badShard;
        badShard.mutable_fetch_shard()->set_shard_sha256("../../etc/passwd");
        const wire::Envelope e1 = contributor->call(badShard);
        QCOMPARE(codeOf(e1), wire::ERROR_CODE_INVALID_ARGUMENT);
        QVERIFY(!e1.error().hint().empty());
        wire::Envelope unknownShard;
        unknownShard.mutable_fetch_shard()->set_shard_sha256(std::string(64, 'a'));
        QCOMPARE(codeOf(contributor->call(unknownShard)), wire::ERROR_CODE_NOT_FOUND);
        QCOMPARE(codeOf(requester->call(controlJobRequest("twelve", wire::JOB_ACTION_PAUSE))),
                 wire::ERROR_CODE_INVALID_ARGUMENT);
        QCOMPARE(codeOf(requester->call(controlJobRequest("99", wire::JOB_ACTION_PAUSE))), wire::ERROR_CODE_NOT_FOUND);
        wire::Envelope submit;
        submit.mutable_submit_result()->set_work_unit_id("-3");
        QCOMPARE(codeOf(contributor->call(submit)), wire::ERROR_CODE_INVALID_ARGUMENT);
        wire::Envelope notARequest;
        notARequest.mutable_lease_grant();
        QCOMPARE(codeOf(contributor->call(notARequest)), wire::ERROR_CODE_INVALID_ARGUMENT);

        // A peer that breaks the framing is closed; everyone else is served as before.
        raw.sendRaw(QByteArray("\x01\x02garbage", 9));
        QVERIFY(raw.waitClosed());
        QVERIFY(contributor->call(heartbeat()).has_heartbeat_ack());
        QVERIFY(requester->call(listJobsRequest()).has_job_list());
    }

    void datasetUploadIsDeduplicated() {
        auto requester = d_->requester();
        const QStringList first = uploadDataset(*requester, d_->manifest, *d_->published);
        QCOMPARE(first.size(), 13);  // 11 training shards and 2 test shards
        const QStringList second = uploadDataset(*requester, d_->manifest, *d_->published);
        QVERIFY(second.isEmpty());
        QVERIFY(QFile::exists(QDir(d_->options.dataDir).filePath("datasets/" + d_->manifest.id + ".json")));

        // The worker's view, while it holds a lease: the manifest with the id it names, and shards by hash.
        auto contributor = d_->contributor();
        d_->submitJob(*requester, adamHyperparameters(1));
        const wire::Envelope grant = contributor->call(leaseRequest(1));
        QCOMPARE(grant.lease_grant().units_size(), 1);
        wire::Envelope fm;
        fm.mutable_fetch_manifest()->set_dataset_id(d_->manifest.id.toStdString());
        fm.mutable_fetch_manifest()->set_accept_zstd(true);
        const auto manifest = contributor->fetch(fm);
        QVERIFY(!manifest.error);
        QCOMPARE(data::Manifest::fromBytes(manifest.bytes, "fetched").id, d_->manifest.id);
        wire::Envelope fs;
        const QString hash = QString::fromStdString(grant.lease_grant().units(0).shard_hashes(0));
        fs.mutable_fetch_shard()->set_shard_sha256(hash.toStdString());
        const auto shard = contributor->fetch(fs);
        QCOMPARE(shard.bytes, d_->published->read(hash));
        // Resuming from an offset sends the rest only.
        fs.mutable_fetch_shard()->set_offset(100);
        const auto rest = contributor->chunks(fs);
        QCOMPARE(rest.size(), size_t(1));
        QCOMPARE(rest[0].shard_chunk().content().offset(), 100u);
        QCOMPARE(QByteArray::fromStdString(rest[0].shard_chunk().content().data()), shard.bytes.mid(100));
        fs.mutable_fetch_shard()->set_offset(1u << 30);
        QCOMPARE(codeOf(contributor->call(fs)), wire::ERROR_CODE_INVALID_ARGUMENT);
    }

    void badUploadsAreRefused() {
        auto requester = d_->requester();
        wire::Envelope bad = uploadDatasetRequest(d_->manifest);
        std::string json = bad.upload_dataset().manifest_json();
        json.replace(json.find("synthetic"), 9, "synthetiX");  // the id no longer names the content
        bad.mutable_upload_dataset()->set_manifest_json(json);
        const wire::Envelope e1 = requester->call(bad);
        QCOMPARE(codeOf(e1), wire::ERROR_CODE_INVALID_ARGUMENT);
        QVERIFY(!e1.error().message().empty());

        QVERIFY(requester->call(uploadDatasetRequest(d_->manifest)).has_upload_dataset_reply());
        // A shard that is not the dataset's.
        data::Samples other({6}, {});
        const float x[6] = {1, 2, 3, 4, 5, 6};
        const std::int32_t y = 0;
        other.append(x, std::span<const std::int32_t>(&y, 1));
        const QByteArray stranger = data::encodeShard(other, data::ElementType::F32);
        wire::Envelope up;
        up.mutable_upload_shard()->set_dataset_id(d_->manifest.id.toStdString());
        *up.mutable_upload_shard()->mutable_content() = protocol::splitContent(stranger, false)[0];
        QCOMPARE(codeOf(requester->call(up)), wire::ERROR_CODE_INVALID_ARGUMENT);
        // A chunk whose bytes do not hash to what it claims.
        const QByteArray real = d_->published->read(d_->manifest.train.shards[0].hash);
        wire::ContentChunk chunk = protocol::splitContent(real, false)[0];
        std::string data = chunk.data();
        data[40] = static_cast<char>(data[40] ^ 1);
        chunk.set_data(data);
        *up.mutable_upload_shard()->mutable_content() = chunk;
        QCOMPARE(codeOf(requester->call(up)), wire::ERROR_CODE_INVALID_ARGUMENT);
        QVERIFY(!d_->coordinator->store().path().isEmpty());
        QVERIFY(!QFile::exists(QDir(d_->options.dataDir).filePath("shards/" + d_->manifest.train.shards[0].hash)));
    }

    void specUploadChecksTheSpec() {
        auto requester = d_->requester();
        const wire::Envelope ok = requester->call(uploadSpecRequest(testing::kSyntheticMlpSpec));
        QVERIFY(ok.has_upload_model_spec_reply());
        QCOMPARE(QString::fromStdString(ok.upload_model_spec_reply().model_spec_sha256()),
                 protocol::sha256Hex(QByteArray(testing::kSyntheticMlpSpec)));

        const wire::Envelope notJson = requester->call(uploadSpecRequest("{ this is not json"));
        QCOMPARE(codeOf(notJson), wire::ERROR_CODE_INVALID_ARGUMENT);
        std::string badLayer = testing::kSyntheticMlpSpec;
        badLayer.replace(badLayer.find("\"out\": 16"), 9, "\"out\": -4");
        const wire::Envelope e = requester->call(uploadSpecRequest(badLayer, "bad.json"));
        QCOMPARE(codeOf(e), wire::ERROR_CODE_INVALID_ARGUMENT);
        QVERIFY2(e.error().message().find("fc1") != std::string::npos, e.error().message().c_str());
        std::string unknownKind = testing::kSyntheticMlpSpec;
        unknownKind.replace(unknownKind.find("\"relu\""), 6, "\"frobnicate\"");
        QCOMPARE(codeOf(requester->call(uploadSpecRequest(unknownKind))), wire::ERROR_CODE_INVALID_ARGUMENT);
    }

    void createJobChecksEverything() {
        auto requester = d_->requester(1 * ledger::kMicroCreditsPerCredit);
        const std::string dataset = d_->manifest.id.toStdString();
        const std::string spec = uploadSpec(*requester);
        // The dataset's manifest alone is not enough: its shards must be there.
        QVERIFY(requester->call(uploadDatasetRequest(d_->manifest)).has_upload_dataset_reply());
        const wire::Envelope noShards = requester->call(createJobRequest(dataset, spec, adamHyperparameters(), 1000));
        QCOMPARE(codeOf(noShards), wire::ERROR_CODE_INVALID_ARGUMENT);
        QVERIFY(noShards.error().message().find("not uploaded") != std::string::npos);
        uploadDataset(*requester, d_->manifest, *d_->published);

        QCOMPARE(codeOf(requester->call(createJobRequest(std::string(64, 'b'), spec, adamHyperparameters(), 1000))),
                 wire::ERROR_CODE_NOT_FOUND);
        QCOMPARE(codeOf(requester->call(createJobRequest(dataset, std::string(64, 'c'), adamHyperparameters(), 1000))),
                 wire::ERROR_CODE_NOT_FOUND);
        wire::Hyperparameters h = adamHyperparameters();
        h.set_global_batch(48);  // not a multiple of 32
        const wire::Envelope batch = requester->call(createJobRequest(dataset, spec, h, 1000));
        QCOMPARE(codeOf(batch), wire::ERROR_CODE_INVALID_ARGUMENT);
        QVERIFY2(batch.error().message().find("multiple") != std::string::npos, batch.error().message().c_str());
        h = adamHyperparameters();
        h.set_optimizer("lion");
        QCOMPARE(codeOf(requester->call(createJobRequest(dataset, spec, h, 1000))), wire::ERROR_CODE_INVALID_ARGUMENT);
        h = adamHyperparameters();
        h.set_beta1(1.5);
        QCOMPARE(codeOf(requester->call(createJobRequest(dataset, spec, h, 1000))), wire::ERROR_CODE_INVALID_ARGUMENT);
        h = adamHyperparameters();
        h.set_gradient_encoding(static_cast<wire::GradientEncoding>(42));
        QCOMPARE(codeOf(requester->call(createJobRequest(dataset, spec, h, 1000))), wire::ERROR_CODE_INVALID_ARGUMENT);
        // A model whose input is not the dataset's samples.
        std::string wide = testing::kSyntheticMlpSpec;
        wide.replace(wide.find("[6]"), 3, "[7]");
        const std::string wideSha =
            requester->call(uploadSpecRequest(wide)).upload_model_spec_reply().model_spec_sha256();
        const wire::Envelope shape = requester->call(createJobRequest(dataset, wideSha, adamHyperparameters(), 1000));
        QCOMPARE(codeOf(shape), wire::ERROR_CODE_INVALID_ARGUMENT);
        QVERIFY2(shape.error().message().find("[7]") != std::string::npos, shape.error().message().c_str());
        // Money.
        QCOMPARE(codeOf(requester->call(createJobRequest(dataset, spec, adamHyperparameters(), 0))),
                 wire::ERROR_CODE_INVALID_ARGUMENT);
        QCOMPARE(codeOf(requester->call(
                     createJobRequest(dataset, spec, adamHyperparameters(), 2 * ledger::kMicroCreditsPerCredit))),
                 wire::ERROR_CODE_BUDGET_EXHAUSTED);
        QVERIFY(d_->coordinator->store().jobs().isEmpty());  // nothing was created by the refusals

        const wire::Envelope job = requester->call(createJobRequest(dataset, spec, adamHyperparameters(), 500'000));
        QVERIFY2(job.has_job_info(), text(job).c_str());
        QCOMPARE(job.job_info().state(), wire::JOB_STATE_RUNNING);
        QCOMPARE(job.job_info().total_steps(), 12u);  // 2 epochs of ceil(11 / 2) steps
        QCOMPARE(job.job_info().budget_micro_credits(), 500'000);
        QCOMPARE(job.job_info().step(), 0u);
        const ledger::JobId id = std::stoll(job.job_info().job_id());
        QCOMPARE(d_->coordinator->store().workUnits(id, 0).size(), 2);  // step 0's units exist
        wire::Envelope balance;
        balance.mutable_balance_query();
        QCOMPARE(requester->call(balance).balance().micro_credits(), 500'000);
    }

    void controlAndCancelRefunds() {
        auto requester = d_->requester();
        const std::string job = d_->submitJob(*requester, adamHyperparameters(), 2'000'000);
        const wire::Envelope paused = requester->call(controlJobRequest(job, wire::JOB_ACTION_PAUSE));
        QCOMPARE(paused.job_info().state(), wire::JOB_STATE_PAUSED);
        auto contributor = d_->contributor();
        QCOMPARE(contributor->call(leaseRequest(4)).lease_grant().units_size(), 0);  // nothing to lease while paused
        QCOMPARE(requester->call(controlJobRequest(job, wire::JOB_ACTION_RESUME)).job_info().state(),
                 wire::JOB_STATE_RUNNING);
        QCOMPARE(contributor->call(leaseRequest(4)).lease_grant().units_size(), 2);
        QCOMPARE(codeOf(requester->call(controlJobRequest(job, wire::JOB_ACTION_UNSPECIFIED))),
                 wire::ERROR_CODE_INVALID_ARGUMENT);

        // Subscribers hear of state changes.
        wire::Envelope subscribe;
        subscribe.mutable_subscribe_metrics()->set_job_id(job);
        std::vector<wire::Envelope> stream;
        requester->client->request(subscribe, [&](const wire::Envelope& e) {
            stream.push_back(e);
            return ProtocolClient::ReplyFlow::More;
        });
        QTRY_COMPARE(stream.size(), size_t(1));
        QVERIFY(stream[0].has_ack());

        QSignalSpy ended(d_->coordinator.get(), &coordinator::Coordinator::jobEnded);
        const wire::Envelope cancelled = requester->call(controlJobRequest(job, wire::JOB_ACTION_CANCEL));
        QCOMPARE(cancelled.job_info().state(), wire::JOB_STATE_CANCELLED);
        QCOMPARE(ended.size(), 1);
        QCOMPARE(ended[0][1].toString(), QStringLiteral("cancelled"));
        QTRY_VERIFY(std::any_of(stream.begin(), stream.end(), [](const wire::Envelope& e) {
            return e.has_job_event() && e.job_event().state() == wire::JOB_STATE_CANCELLED;
        }));
        wire::Envelope balance;
        balance.mutable_balance_query();
        QCOMPARE(requester->call(balance).balance().micro_credits(), 100 * ledger::kMicroCreditsPerCredit);
        QCOMPARE(codeOf(requester->call(controlJobRequest(job, wire::JOB_ACTION_RESUME))),
                 wire::ERROR_CODE_INVALID_ARGUMENT);
        // Its leased units can no longer be delivered.
        QCOMPARE(contributor->call(leaseRequest(4)).lease_grant().units_size(), 0);
        // Unsubscribing twice: the second finds nothing.
        wire::Envelope unsubscribe;
        unsubscribe.mutable_unsubscribe()->set_subscription_request_id(stream[0].request_id());
        QVERIFY(requester->call(unsubscribe).has_ack());
        QCOMPARE(codeOf(requester->call(unsubscribe)), wire::ERROR_CODE_NOT_FOUND);
    }
};

QTEST_GUILESS_MAIN(CoordinatorRequestsTest)
#include "tst_CoordinatorRequests.moc"
