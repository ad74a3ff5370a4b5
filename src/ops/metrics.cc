#include "ops/metrics.h"

#include <cstdio>

#include "ops/admin_token.h"

namespace intake::ops {

void MetricsWriter::sample(const metrics::MetricFamily& family, double value, std::string_view labels) {
  // Samples of one family must follow each other: HELP/TYPE only when the family starts.
  if (&family != last_family_) {
    out_.append("# HELP ").append(family.name).append(" ").append(family.help).append("\n");
    out_.append("# TYPE ").append(family.name).append(" ").append(metrics::type_name(family.type)).append("\n");
    last_family_ = &family;
  }
  out_.append(family.name);
  if (!labels.empty()) out_.append("{").append(labels).append("}");
  char text[32];
  std::snprintf(text, sizeof(text), " %.17g\n", value);
  out_.append(text);
}

http::Response MetricsHandler::handle(const http::Request& request, const http::RouteParams& /*params*/) {
  if (required_token_) {
    if (auto refusal = refuse_without_admin_token(request, *required_token_)) return std::move(*refusal);
  }
  MetricsWriter writer;
  for (const auto& collect : collectors_) collect(writer);
  http::Response response;
  response.status = 200;
  response.content_type = "text/plain; version=0.0.4";
  response.body = writer.take();
  return response;
}

}  // namespace intake::ops
