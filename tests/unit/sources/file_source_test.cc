// FileSource on a temporary directory with real inotify: what is reported for changes,
// editors' atomic saves, half-written files, new subdirectories and the YAML form; and the
// YAML-to-entries rule on its own.
#include "sources/file.h"
#include "sources/file_tree_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "eventually.h"
#include "source_runner.h"

namespace intake::sources {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Entries = std::map<std::string, std::string>;
using testing::eventually;

// ---- yaml_to_entries ----

// The entries of a YAML text that decodes; a failure shows its message.
Entries entries_of(std::string_view yaml) {
  auto entries = yaml_to_entries(yaml);
  EXPECT_TRUE(entries.ok()) << entries.error().message;
  return entries ? std::move(entries).value() : Entries{};
}

// The message of a YAML text that does not decode; "" when it does.
std::string error_of(std::string_view yaml) {
  const auto entries = yaml_to_entries(yaml);
  return entries ? std::string() : entries.error().message;
}

TEST(YamlToEntries, ScalarsKeepTheirTextAndCollectionsBecomeJson) {
  const Entries entries = entries_of(R"(
keys/team-a: {"secret_sha256": "ab12", "topics": ["events.*"], "enabled": true}
keys/team-b:
  secret_sha256: "0042"
  topics: [logs.*, 'x']
  rate: {per_sec: 500, burst: 1.5e3}
  note: yes
  empty:
  nothing: ~
settings: '{"default_mode": "async"}'
topics/t: |
  {"max_record_bytes": 10}
brokers/kafka-1:9092:
brokers/kafka-2:9092: ""
number: 5
)");
  EXPECT_EQ(entries, (Entries{
                         {"keys/team-a", R"({"secret_sha256":"ab12","topics":["events.*"],"enabled":true})"},
                         {"keys/team-b",
                          R"({"secret_sha256":"0042","topics":["logs.*","x"],"rate":{"per_sec":500,"burst":1.5e3},)"
                          R"("note":"yes","empty":null,"nothing":null})"},
                         {"settings", R"({"default_mode": "async"})"},
                         {"topics/t", "{\"max_record_bytes\": 10}\n"},
                         {"brokers/kafka-1:9092", ""},
                         {"brokers/kafka-2:9092", ""},
                         {"number", "5"},
                     }));
}

TEST(YamlToEntries, OnlyJsonSpelledPlainScalarsAreNumbers) {
  const char* yaml = R"(v: [5, "5", -0.5, 0x1F, .5, 1_000, 007, True, FALSE, Null, !!str 12, '{x}'])";
  EXPECT_EQ(entries_of(yaml).at("v"), R"([5,"5",-0.5,"0x1F",".5","1_000","007",true,false,null,"12","{x}"])");
}

TEST(YamlToEntries, AnEmptyDocumentIsAnEmptyTree) {
  EXPECT_TRUE(entries_of("").empty());
  EXPECT_TRUE(entries_of("# only a comment\n").empty());
  EXPECT_TRUE(entries_of("{}").empty());
}

TEST(YamlToEntries, RejectsWhatIsNoMappingOfKeys) {
  EXPECT_NE(error_of("keys/a: {unclosed").find("not valid YAML"), std::string::npos);
  EXPECT_NE(error_of("- a\n- b\n"), "");
  EXPECT_NE(error_of("just text"), "");
  EXPECT_EQ(yaml_to_entries("just text").error().code, ErrorCode::kInvalidConfig);  // content, not a read error
  EXPECT_EQ(error_of("a: 1\n---\nb: 2\n"), "more than one YAML document");
  EXPECT_NE(error_of("[a]: 1\n"), "");
  EXPECT_NE(error_of("a: {[x]: 1}\n"), "");
  EXPECT_NE(error_of("a: 1\na: 2\n").find("duplicate"), std::string::npos);
}

TEST(EditorTempName, SkipsHiddenBackupSwapAndTempFiles) {
  for (const char* name : {".team-a.swp", ".hidden", "team-a~", "team-a.swp", "team-a.tmp", "#team-a#"}) {
    EXPECT_TRUE(is_editor_temp_name(name)) << name;
  }
  for (const char* name : {"team-a", "settings", "kafka-1:9092", "a.json"}) {
    EXPECT_FALSE(is_editor_temp_name(name)) << name;
  }
}

// ---- FileSource with inotify ----

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "intake-file-source-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root = pattern;
  }
  void TearDown() override {
    runner.reset();
    source.reset();
    std::error_code ignored;
    fs::remove_all(root, ignored);
  }

  void start(const fs::path& path) {
    FileOptions settings;
    settings.path = path.string();
    source = std::make_unique<FileSource>(settings);
    runner = std::make_unique<testing::SourceRunner>(*source);
  }
  testing::RecordingCallbacks& callbacks() { return runner->callbacks(); }

  // Writes `content` in one go (create or truncate, write, close).
  void write(const fs::path& relative, const std::string& content) {
    const fs::path path = root / relative;
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
  }
  // An editor's atomic save: a temp file next to the target, renamed over it.
  void save_atomically(const fs::path& relative, const std::string& content) {
    const fs::path target = root / relative;
    const fs::path temp = target.parent_path() / ("." + target.filename().string() + ".tmp");
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      out << content;
    }
    fs::rename(temp, target);
  }

  bool converges_to(const Entries& expected) {
    return eventually([&] { return callbacks().tree_count() > 0 && callbacks().last_entries() == expected; }, 5s);
  }
  // True when no tree reported so far has `key` with `value`.
  bool never_reported(const std::string& key, const std::string& value) {
    for (const auto& tree : callbacks().trees()) {
      if (auto it = tree.entries.find(key); it != tree.entries.end() && it->second == value) return false;
    }
    return true;
  }

  fs::path root;
  std::unique_ptr<FileSource> source;
  std::unique_ptr<testing::SourceRunner> runner;
};

TEST_F(FileSourceTest, DirectoryFormReportsEveryFileByItsRelativePathAndSkipsEditorFiles) {
  write("keys/team-a", R"({"secret_sha256":"aa"})");
  write("settings", R"({"default_mode":"async"})");
  write("brokers/kafka-1:9092", "");
  write("keys/.team-a.swp", "swap");
  write("keys/team-a~", "backup");
  write(".git/config", "[core]");
  start(root);
  ASSERT_TRUE(converges_to({{"keys/team-a", R"({"secret_sha256":"aa"})"},
                            {"settings", R"({"default_mode":"async"})"},
                            {"brokers/kafka-1:9092", ""}}));
  const auto tree = *callbacks().last_tree();
  EXPECT_EQ(tree.source, "file");
  EXPECT_EQ(tree.revision, "1");
  EXPECT_EQ(tree.prefix, root.string());
  EXPECT_EQ(source->stats().snapshots, 1u);
}

TEST_F(FileSourceTest, AnEmptyDirectoryIsAnEmptyTree) {
  start(root);
  ASSERT_TRUE(eventually([&] { return callbacks().tree_count() == 1; }, 5s));
  EXPECT_TRUE(callbacks().last_entries().empty());
  EXPECT_TRUE(callbacks().errors().empty());
}

TEST_F(FileSourceTest, AddedChangedAndDeletedFilesAreReported) {
  write("keys/a", "1");
  start(root);
  ASSERT_TRUE(converges_to({{"keys/a", "1"}}));
  write("keys/b", "2");
  ASSERT_TRUE(converges_to({{"keys/a", "1"}, {"keys/b", "2"}}));
  write("keys/a", "11");
  ASSERT_TRUE(converges_to({{"keys/a", "11"}, {"keys/b", "2"}}));
  fs::remove(root / "keys/b");
  ASSERT_TRUE(converges_to({{"keys/a", "11"}}));
  fs::remove_all(root / "keys");
  ASSERT_TRUE(converges_to({}));
  EXPECT_TRUE(callbacks().errors().empty());
}

TEST_F(FileSourceTest, UnchangedContentIsNotReportedAgain) {
  write("keys/a", "1");
  start(root);
  ASSERT_TRUE(converges_to({{"keys/a", "1"}}));
  const auto requests_before = source->stats().requests;
  write("keys/a", "1");                  // same content, closed after writing
  save_atomically("keys/a", "1");        // renamed over
  write("keys/.a.swp", "editor state");  // ignored name
  // A re-read is counted as it starts; the barrier waits for the one under way to finish.
  ASSERT_TRUE(eventually([&] { return source->stats().requests > requests_before; }, 5s));
  ASSERT_TRUE(runner->barrier());
  EXPECT_EQ(callbacks().tree_count(), 1u);
  // Any re-read still due for them runs before the one for a real change: that is the next report.
  write("keys/b", "2");
  ASSERT_TRUE(converges_to({{"keys/a", "1"}, {"keys/b", "2"}}));
  EXPECT_EQ(callbacks().tree_count(), 2u);
}

TEST_F(FileSourceTest, AtomicRenameIsReadOnlyUnderItsFinalName) {
  write("keys/a", "old");
  start(root);
  ASSERT_TRUE(converges_to({{"keys/a", "old"}}));
  save_atomically("keys/a", R"({"secret_sha256":"new"})");
  ASSERT_TRUE(converges_to({{"keys/a", R"({"secret_sha256":"new"})"}}));
  for (const auto& tree : callbacks().trees()) EXPECT_EQ(tree.entries.count("keys/.a.tmp"), 0u);
}

// A writer that has written part of a file and not closed it yet: whatever else triggers a
// re-read meanwhile (here another file), the half-written file keeps its last reported
// content (a new one stays absent) until the writer closes it.
TEST_F(FileSourceTest, AHalfWrittenFileIsNeverReported) {
  write("keys/existing", "old");
  start(root);
  ASSERT_TRUE(converges_to({{"keys/existing", "old"}}));

  const int fresh = ::open((root / "keys/fresh").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int existing = ::open((root / "keys/existing").c_str(), O_WRONLY | O_TRUNC);
  ASSERT_GE(fresh, 0);
  ASSERT_GE(existing, 0);
  ASSERT_EQ(::write(fresh, "{\"par", 5), 5);
  ASSERT_EQ(::write(existing, "{\"hal", 5), 5);
  // inotify queues the writers' events within those calls, so the re-read that keys/other
  // causes handles them before it reads anything.
  write("keys/other", "x");
  ASSERT_TRUE(converges_to({{"keys/existing", "old"}, {"keys/other", "x"}}));
  EXPECT_TRUE(never_reported("keys/fresh", "{\"par"));
  EXPECT_TRUE(never_reported("keys/existing", "{\"hal"));

  ASSERT_EQ(::write(fresh, "tial\"}", 6), 6);
  ASSERT_EQ(::write(existing, "f\"}", 3), 3);
  ::close(fresh);
  ::close(existing);
  ASSERT_TRUE(converges_to({{"keys/existing", R"({"half"})"}, {"keys/fresh", R"({"partial"})"}, {"keys/other", "x"}}));
  EXPECT_TRUE(never_reported("keys/fresh", "{\"par"));
  EXPECT_TRUE(never_reported("keys/existing", "{\"hal"));
  EXPECT_TRUE(never_reported("keys/existing", ""));
}

TEST_F(FileSourceTest, NewSubdirectoriesAreWatched) {
  start(root);
  ASSERT_TRUE(eventually([&] { return callbacks().tree_count() == 1; }, 5s));
  const auto requests_before = source->stats().requests;
  fs::create_directory(root / "topics");
  // The re-read the new directory causes watches it: wait until that re-read has run.
  ASSERT_TRUE(eventually([&] { return source->stats().requests > requests_before; }, 5s));
  ASSERT_TRUE(runner->barrier());
  write("topics/t1", "1");
  ASSERT_TRUE(converges_to({{"topics/t1", "1"}}));
  write("topics/t1", "2");
  ASSERT_TRUE(converges_to({{"topics/t1", "2"}}));
  // A deep tree created and filled at once, and a directory moved in from elsewhere.
  write("keys/team/a/b", "deep");
  const fs::path outside = root.string() + "-outside";
  fs::create_directories(outside / "moved");
  std::ofstream(outside / "moved/k") << "v";
  fs::rename(outside / "moved", root / "moved");
  fs::remove_all(outside);
  ASSERT_TRUE(converges_to({{"topics/t1", "2"}, {"keys/team/a/b", "deep"}, {"moved/k", "v"}}));
  write("moved/k", "v2");
  ASSERT_TRUE(converges_to({{"topics/t1", "2"}, {"keys/team/a/b", "deep"}, {"moved/k", "v2"}}));
}

TEST_F(FileSourceTest, AMissingDirectoryIsAnErrorUntilItAppears) {
  const fs::path missing = root / "registry";
  FileOptions settings;
  settings.path = missing.string();
  settings.form = FileOptions::Form::kDirectory;
  source = std::make_unique<FileSource>(settings);
  runner = std::make_unique<testing::SourceRunner>(*source);
  ASSERT_TRUE(eventually([&] { return callbacks().error_count() > 0; }, 5s));
  EXPECT_EQ(callbacks().tree_count(), 0u);
  EXPECT_NE(callbacks().errors().front().find("registry"), std::string::npos) << callbacks().errors().front();
  write("registry/settings", "{}");
  ASSERT_TRUE(converges_to({{"settings", "{}"}}));
}

TEST_F(FileSourceTest, YamlFormReportsItsEntriesAndFollowsEdits) {
  write("intake.yaml", "keys/team-a: {\"secret_sha256\": \"aa\", \"topics\": [\"events.*\"]}\n");
  write("unrelated.txt", "x");
  start(root / "intake.yaml");
  ASSERT_TRUE(converges_to({{"keys/team-a", R"({"secret_sha256":"aa","topics":["events.*"]})"}}));
  EXPECT_EQ(callbacks().last_tree()->source, "file");
  save_atomically("intake.yaml", "settings: '{\"default_mode\": \"sync\"}'\n");
  ASSERT_TRUE(converges_to({{"settings", R"({"default_mode": "sync"})"}}));
  write("intake.yaml", "brokers/k:9092:\n");
  ASSERT_TRUE(converges_to({{"brokers/k:9092", ""}}));
  EXPECT_TRUE(callbacks().errors().empty());
}

TEST_F(FileSourceTest, BrokenYamlIsAnErrorAndNoTreeAndTheFixIsReported) {
  write("intake.yaml", "settings: '{}'\n");
  start(root / "intake.yaml");
  ASSERT_TRUE(converges_to({{"settings", "{}"}}));
  write("intake.yaml", "settings: {unclosed\nkeys/a: [\n");
  ASSERT_TRUE(eventually([&] { return callbacks().error_count() > 0; }, 5s));
  EXPECT_NE(callbacks().errors().front().find("not valid YAML"), std::string::npos) << callbacks().errors().front();
  // The error is reported after the re-read that found it: a tree from that re-read would be here.
  EXPECT_EQ(callbacks().tree_count(), 1u);
  write("intake.yaml", "settings: '{}'\nkeys/a: '{}'\n");
  ASSERT_TRUE(converges_to({{"settings", "{}"}, {"keys/a", "{}"}}));
}

TEST_F(FileSourceTest, BrokenYamlAtStartIsAnErrorNotAnEmptyTree) {
  write("intake.yaml", "- just\n- a list\n");
  start(root / "intake.yaml");
  ASSERT_TRUE(eventually([&] { return callbacks().error_count() > 0; }, 5s));
  EXPECT_EQ(callbacks().tree_count(), 0u);
  // A bad file is not retried until it changes. Showing that a retry does NOT come takes
  // time: a read error's first retry comes within 250 ms (Backoff's first step).
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(source->stats().requests, 1u);
  EXPECT_EQ(source->stats().errors, 1u);
  EXPECT_EQ(callbacks().tree_count(), 0u);
}

TEST_F(FileSourceTest, AHalfWrittenYamlFileIsNotRead) {
  write("intake.yaml", "settings: '{}'\n");
  start(root / "intake.yaml");
  ASSERT_TRUE(converges_to({{"settings", "{}"}}));
  const int fd = ::open((root / "intake.yaml").c_str(), O_WRONLY | O_TRUNC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "keys/a: {\"x\"", 12), 12);
  const auto requests_before = source->stats().requests;
  write("neighbour", "x");  // an event in the same directory: a re-read, which must skip the file
  ASSERT_TRUE(eventually([&] { return source->stats().requests > requests_before; }, 5s));
  ASSERT_TRUE(runner->barrier());
  EXPECT_EQ(callbacks().tree_count(), 1u);
  EXPECT_TRUE(callbacks().errors().empty());
  ASSERT_EQ(::write(fd, ": 1}\n", 5), 5);
  ::close(fd);
  ASSERT_TRUE(converges_to({{"keys/a", R"({"x":1})"}}));
  EXPECT_TRUE(callbacks().errors().empty());
}

TEST_F(FileSourceTest, StoppingTheContextStopsTheSourceAtOnce) {
  write("keys/a", "1");
  start(root);
  ASSERT_TRUE(converges_to({{"keys/a", "1"}}));
  const auto started = std::chrono::steady_clock::now();
  runner->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  const auto requests_at_stop = source->stats().requests;
  write("keys/a", "2");
  // Showing that nothing happens takes time: a running source re-reads 10 ms (the debounce)
  // after a change.
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(source->stats().requests, requests_at_stop);
  EXPECT_EQ(callbacks().last_entries(), (Entries{{"keys/a", "1"}}));
}

}  // namespace
}  // namespace intake::sources
