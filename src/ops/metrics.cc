#include "ops/metrics.h"

#include <charconv>
#include <system_error>

#include "ops/admin_token.h"

namespace intake::ops {

namespace {

// A sample value or bound in the shortest form that reads back exactly, in fixed notation
// (le="0.0005", as PromQL selectors spell it; not 5e-04 or 0.00050000000000000001), falling
// back to exponent notation for numbers too large for that.
void append_number(std::string& out, double value) {
  char text[64];
  auto written = std::to_chars(text, text + sizeof(text), value, std::chars_format::fixed);
  if (written.ec != std::errc()) written = std::to_chars(text, text + sizeof(text), value);
  out.append(text, written.ptr);
}

}  // namespace

void MetricsWriter::begin(const metrics::MetricFamily& family) {
  // Samples of one family must follow each other: HELP/TYPE only when the family starts.
  if (&family == last_family_) return;
  out_.append("# HELP ").append(family.name).append(" ").append(family.help).append("\n");
  out_.append("# TYPE ").append(family.name).append(" ").append(metrics::type_name(family.type)).append("\n");
  last_family_ = &family;
}

void MetricsWriter::line(const metrics::MetricFamily& family, std::string_view suffix, std::string_view labels,
                         std::string_view extra, double value) {
  out_.append(family.name).append(suffix);
  if (!labels.empty() || !extra.empty()) {
    out_.append("{").append(labels);
    if (!labels.empty() && !extra.empty()) out_.append(",");
    out_.append(extra).append("}");
  }
  out_.append(" ");
  append_number(out_, value);
  out_.append("\n");
}

void MetricsWriter::sample(const metrics::MetricFamily& family, double value, std::string_view labels) {
  begin(family);
  line(family, "", labels, "", value);
}

void MetricsWriter::histogram(const metrics::MetricFamily& family, const metrics::HistogramSample& histogram,
                              std::string_view labels) {
  begin(family);
  std::uint64_t cumulative = 0;
  std::string le;
  for (std::size_t i = 0; i < histogram.counts.size(); ++i) {
    cumulative += histogram.counts[i];
    le.assign("le=\"");
    if (i < histogram.bounds.size()) {
      append_number(le, histogram.bounds[i]);
    } else {
      le.append("+Inf");
    }
    le.append("\"");
    line(family, "_bucket", labels, le, static_cast<double>(cumulative));
  }
  line(family, "_sum", labels, "", histogram.sum);
  line(family, "_count", labels, "", static_cast<double>(cumulative));
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
