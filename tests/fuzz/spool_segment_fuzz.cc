// The spool's reading half on a segment file made of the input: torn tails, damaged frames,
// bad magics and bad ack files (spool/segment.h, spool/spool_reader.h), as the gateway meets
// them at start-up — every record that reads back is replayed, the rest skipped. The input
// also goes to the payload decoder (spool/record_codec.h), where a payload that decodes must
// encode back to the same bytes.
//
// Input: a flags byte (bit 0: prepend the format-2 magic, bit 1: the format-1 magic, bit 2: an
// .acks file follows: a length byte, then that many bytes), then the .log file's bytes.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "fuzz_input.h"
#include "spool/consumer_signal.h"
#include "spool/log_format.h"
#include "spool/record_codec.h"
#include "spool/segment.h"
#include "spool/segment_set.h"
#include "spool/spool_counters.h"
#include "spool/spool_options.h"
#include "spool/spool_reader.h"

namespace {

using namespace intake;
namespace fs = std::filesystem;

// One directory per process, emptied before each input: tmpfs when there is one (speed).
const std::string& spool_dir() {
  static const std::string dir = [] {
    const char* base = fs::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string path = std::string(base) + "/intake-spool-fuzz-" + std::to_string(::getpid());
    return path;
  }();
  return dir;
}

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void check_codec(std::string_view payload) {
  spool::DecodedRecord record;
  if (!spool::decode(payload, record)) return;
  const kafka::OutgoingRecord outgoing = record.outgoing();
  std::string encoded;
  spool::encode(outgoing, encoded);
  FUZZ_CHECK(encoded.size() == spool::encoded_size(outgoing));
  FUZZ_CHECK(encoded == payload);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  spdlog::set_level(spdlog::level::off);       // recovery logs every damage it finds
  static const std::string dir = spool_dir();  // outlives the exit handler below
  std::atexit([] { fs::remove_all(dir); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::FuzzInput input(data, size);
  const std::uint8_t flags = input.take_byte();
  std::string_view acks;
  if ((flags & 4) != 0) {
    const std::size_t length = input.take_byte();
    acks = input.rest().substr(0, length);
    input = fuzz::FuzzInput(data + 2 + acks.size(), size - std::min(size, 2 + acks.size()));
  }
  check_codec(input.rest());
  std::string log;
  if ((flags & 1) != 0) log += spool::kSegmentMagic;
  if ((flags & 2) != 0) log += spool::kSegmentMagicV1;
  log += input.rest();

  const std::string& dir = spool_dir();
  fs::remove_all(dir);
  fs::create_directories(dir);
  write_file(spool::Segment::log_path(dir, 1), log);
  if ((flags & 4) != 0) write_file(spool::Segment::acks_path(dir, 1), acks);

  spool::SpoolOptions options;
  options.dir = dir;
  spool::SegmentSet segments;
  spool::SpoolCounters counters;
  spool::ConsumerSignal signal;
  spool::SpoolReader reader(options, spool::posix_file_ops(), segments, counters, signal);
  FUZZ_CHECK(reader.recover() == 2);
  // A frame holds at least its header, so no more records than that can come back.
  const std::size_t max_records = log.size() / spool::kFrameHeaderBytesV1 + 1;
  std::size_t records = 0;
  spool::SpoolReader::Pending pending;
  while (reader.peek(pending)) {
    FUZZ_CHECK(++records <= max_records);
    FUZZ_CHECK(pending.record.value.size() <= log.size());
    reader.done(pending.ticket);
    reader.advance();
  }
  reader.retire_finished();
  reader.release();
  return 0;
}
