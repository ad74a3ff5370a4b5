#include "ops/metrics.h"

#include <cstdio>

namespace intake::ops {

void MetricsWriter::sample(std::string_view type, std::string_view name, std::string_view help, double value,
                           std::string_view labels) {
  // Samples of one family must follow each other: HELP/TYPE only when the family starts.
  if (name != last_family_) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
    last_family_ = std::string(name);
  }
  out_.append(name);
  if (!labels.empty()) out_.append("{").append(labels).append("}");
  char text[32];
  std::snprintf(text, sizeof(text), " %.17g\n", value);
  out_.append(text);
}

void MetricsWriter::counter(std::string_view name, std::string_view help, double value, std::string_view labels) {
  sample("counter", name, help, value, labels);
}

void MetricsWriter::gauge(std::string_view name, std::string_view help, double value, std::string_view labels) {
  sample("gauge", name, help, value, labels);
}

http::Response MetricsHandler::handle(const http::Request& /*request*/, const http::RouteParams& /*params*/) {
  MetricsWriter writer;
  for (const auto& collect : collectors_) collect(writer);
  http::Response response;
  response.status = 200;
  response.content_type = "text/plain; version=0.0.4";
  response.body = writer.take();
  return response;
}

}  // namespace intake::ops
