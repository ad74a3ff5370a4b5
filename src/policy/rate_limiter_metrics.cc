#include "policy/rate_limiter_metrics.h"

namespace intake::policy {
namespace {

using metrics::MetricFamily;
using metrics::MetricType;

constexpr MetricFamily kLimited{"intake_rate_limited_requests_total",
                                "Requests refused 429 rate_limited: their API key was over its rate",
                                MetricType::kCounter};
constexpr MetricFamily kTrackedKeys{"intake_rate_limit_keys", "API keys with a rate (keys holding buckets)",
                                    MetricType::kGauge};
constexpr const MetricFamily* kFamilies[] = {&kLimited, &kTrackedKeys};

}  // namespace

metrics::MetricList rate_limiter_metric_families() { return kFamilies; }

void write_rate_limiter_metrics(const RateLimiter& limiter, metrics::MetricSink& out) {
  out.sample(kLimited, static_cast<double>(limiter.limited()));
  out.sample(kTrackedKeys, static_cast<double>(limiter.tracked_keys()));
}

}  // namespace intake::policy
