// RequesterClient::subscribe: one SubscribeMetrics request whose answers are a stream (an Ack, then
// MetricsUpdate and JobEvent messages with the same request id). The stream ends here when the job
// reaches a final state, on unsubscribe(), on an Error, or when the connection ends.
#include "base/Error.h"
#include "protocol/Framing.h"
#include "protocol/ProtocolClient.h"
#include "requester/Credits.h"
#include "requester/RequesterClient.h"

namespace raven::requester {

using protocol::ProtocolClient;

struct RequesterClient::Subscription {
    MetricsHandlers handlers;
};

std::uint64_t RequesterClient::subscribe(const QString& jobId, bool includeHistory, MetricsHandlers handlers) {
    if (!isReady()) {
        report(handlers.failed, notReady("subscribe to a job's metrics"));
        return 0;
    }
    wire::Envelope request;
    request.mutable_subscribe_metrics()->set_job_id(jobId.toStdString());
    request.mutable_subscribe_metrics()->set_include_history(includeHistory);
    auto subscription = std::make_shared<Subscription>(Subscription{std::move(handlers)});
    std::uint64_t id = 0;
    try {
        id = connection_->request(std::move(request), [this](const wire::Envelope& answer) {
            const std::uint64_t streamId = answer.request_id();
            const auto found = subscriptions_.find(streamId);
            if (found == subscriptions_.end()) return ProtocolClient::ReplyFlow::Done;  // unsubscribed
            // A copy: a callback may unsubscribe, which drops the map's reference.
            const std::shared_ptr<Subscription> s = found->second;
            const MetricsHandlers& h = s->handlers;
            if (answer.has_ack()) {
                if (h.started) h.started();
            } else if (answer.has_metrics_update()) {
                if (h.metrics) h.metrics(answer.metrics_update());
            } else if (answer.has_job_event()) {
                const wire::JobEvent& event = answer.job_event();
                if (h.event) h.event(event);
                if (event.kind() == wire::JOB_EVENT_KIND_STATE_CHANGED && isFinished(event.state()) &&
                    subscriptions_.count(streamId)) {
                    endSubscription(streamId, true);
                    if (h.finished) h.finished(event.state());
                    return ProtocolClient::ReplyFlow::Done;
                }
            } else {
                endSubscription(streamId, !answer.has_error());  // an Error means there is no subscription
                report(h.failed, answer.has_error()
                                     ? Failure::fromError(answer.error())
                                     : Failure{wire::ERROR_CODE_INTERNAL,
                                               QStringLiteral("the coordinator answered %1 to SubscribeMetrics")
                                                   .arg(protocol::payloadName(answer)),
                                               hintFor(wire::ERROR_CODE_VERSION_MISMATCH)});
                return ProtocolClient::ReplyFlow::Done;
            }
            return subscriptions_.count(streamId) ? ProtocolClient::ReplyFlow::More : ProtocolClient::ReplyFlow::Done;
        });
    } catch (const raven::Error& e) {
        report(subscription->handlers.failed, {wire::ERROR_CODE_INVALID_ARGUMENT, QString::fromStdString(e.message()),
                                               QString::fromStdString(e.hint())});
        return 0;
    }
    subscriptions_[id] = std::move(subscription);
    return id;
}

void RequesterClient::unsubscribe(std::uint64_t subscription) {
    if (subscriptions_.count(subscription)) endSubscription(subscription, true);
}

void RequesterClient::endSubscription(std::uint64_t id, bool tellCoordinator) {
    subscriptions_.erase(id);
    if (!tellCoordinator || !isReady()) return;
    wire::Envelope request;
    request.mutable_unsubscribe()->set_subscription_request_id(id);
    // The answer (an Ack) says nothing worth reporting.
    connection_->request(std::move(request), [](const wire::Envelope&) { return ProtocolClient::ReplyFlow::Done; });
}

}  // namespace raven::requester
