// Writes the spool_segment target's seeds with the real writer (spool/segment.h,
// spool/record_codec.h): `spool_seed_gen <out-dir>` leaves a few small segments there, as the
// target reads them (a flags byte of 0, then the .log bytes). Run by hand when the format
// changes; the seeds are committed in corpus/spool_segment/.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kafka/record_sink.h"
#include "spool/record_codec.h"
#include "spool/segment.h"

namespace {

using namespace intake;
namespace fs = std::filesystem;

void write_seed(const fs::path& out, const std::string& name, const std::vector<kafka::OutgoingRecord>& records,
                std::size_t cut_bytes) {
  const fs::path dir = fs::temp_directory_path() / ("intake-seed-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    auto segment = spool::Segment::create(dir.string(), 1, false);
    if (!segment) throw std::runtime_error(segment.error().message);
    for (const auto& record : records) {
      std::string payload;
      spool::encode(record, payload);
      if (!segment.value()->append(payload)) throw std::runtime_error("append failed");
    }
  }
  std::ifstream in(spool::Segment::log_path(dir.string(), 1), std::ios::binary);
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  log.resize(log.size() - std::min(cut_bytes, log.size()));
  std::ofstream seed(out / name, std::ios::binary | std::ios::trunc);
  seed.put('\0');
  seed.write(log.data(), static_cast<std::streamsize>(log.size()));
  fs::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: spool_seed_gen <out-dir>\n");
    return 2;
  }
  const fs::path out = argv[1];
  fs::create_directories(out);
  const kafka::RecordHeader headers[] = {{"intake-key-id", "team-a"}, {"trace", "abc"}};
  kafka::OutgoingRecord plain{.topic = "events", .key = "", .value = "hello"};
  kafka::OutgoingRecord keyed{.topic = "orders.eu", .key = "k1", .value = "{\"n\":1}", .partition = 2};
  kafka::OutgoingRecord with_headers{.topic = "events", .key = "k2", .value = "v", .headers = headers};
  write_seed(out, "one-record", {plain}, 0);
  write_seed(out, "three-records", {plain, keyed, with_headers}, 0);
  write_seed(out, "torn-tail", {plain, keyed, with_headers}, 3);
  write_seed(out, "empty-segment", {}, 0);
  return 0;
}
