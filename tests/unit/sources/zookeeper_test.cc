// The ZooKeeper source's pure logic: root and path mapping, which znodes are entries, and the
// mirror's bookkeeping as reads arrive (sources/znode_tree.h).
#include <gtest/gtest.h>

#include <stdexcept>

#include "sources/znode_tree.h"
#include "sources/zookeeper.h"

namespace intake::sources {
namespace {

TEST(ZnodeRoot, IsNormalizedOrRejected) {
  EXPECT_EQ(normalize_znode_root("/intake"), "/intake");
  EXPECT_EQ(normalize_znode_root("/intake/"), "/intake");
  EXPECT_EQ(normalize_znode_root("/a/b//"), "/a/b");
  EXPECT_EQ(normalize_znode_root("/"), "/");
  EXPECT_EQ(normalize_znode_root("///"), "/");
  EXPECT_THROW(normalize_znode_root(""), std::invalid_argument);
  EXPECT_THROW(normalize_znode_root("intake"), std::invalid_argument);
  EXPECT_THROW(normalize_znode_root("/a//b"), std::invalid_argument);
  EXPECT_THROW(normalize_znode_root("/a/../b"), std::invalid_argument);
  EXPECT_THROW(normalize_znode_root("/a/."), std::invalid_argument);
  EXPECT_THROW(ZooKeeperSource{ZooKeeperOptions{.root = "relative"}}, std::invalid_argument);
}

TEST(ZnodePaths, MapBetweenAbsolutePathsAndKeysRelativeToTheRoot) {
  const ZnodeTree tree("/intake");
  EXPECT_EQ(tree.absolute(""), "/intake");
  EXPECT_EQ(tree.absolute("keys/team-a"), "/intake/keys/team-a");
  EXPECT_EQ(tree.relative("/intake"), "");
  EXPECT_EQ(tree.relative("/intake/keys/team-a"), "keys/team-a");
  EXPECT_EQ(tree.relative("/intake/brokers/h:9092"), "brokers/h:9092");
  EXPECT_EQ(tree.relative("/intakes/keys"), std::nullopt);
  EXPECT_EQ(tree.relative("/intake/"), std::nullopt);
  EXPECT_EQ(tree.relative("/other"), std::nullopt);
  EXPECT_EQ(tree.relative("/"), std::nullopt);
}

TEST(ZnodePaths, WorkUnderTheZooKeeperRootItself) {
  const ZnodeTree tree("/");
  EXPECT_EQ(tree.absolute(""), "/");
  EXPECT_EQ(tree.absolute("keys/a"), "/keys/a");
  EXPECT_EQ(tree.relative("/"), "");
  EXPECT_EQ(tree.relative("/keys/a"), "keys/a");
  EXPECT_EQ(tree.assemble().prefix, "/");
}

TEST(ZnodeTree, LeavesOutZooKeepersOwnSubtreeUnderTheZooKeeperRoot) {
  ZnodeTree top("/");
  top.add("");
  EXPECT_EQ(top.set_children("", {"zookeeper", "keys"}, {}), (std::vector<std::string>{"keys"}));
  ZnodeTree nested("/intake");
  nested.add("");
  EXPECT_EQ(nested.set_children("", {"zookeeper"}, {}), (std::vector<std::string>{"zookeeper"}));
}

TEST(ZnodeKinds, ChildrenOrAnEmptiedFolderMakeAFolderAnythingElseAnEntry) {
  EXPECT_TRUE(is_folder_znode(1, 1, ""));
  EXPECT_TRUE(is_folder_znode(3, 5, "folder data is ignored"));
  EXPECT_TRUE(is_folder_znode(0, 2, ""));   // "/intake/keys" after its last key was deleted
  EXPECT_FALSE(is_folder_znode(0, 0, ""));  // "brokers/h:9092" created without data
  EXPECT_FALSE(is_folder_znode(0, 0, "{}"));
  EXPECT_FALSE(is_folder_znode(0, 4, "{}"));  // data decides once the children are gone
}

// Builds "/intake" with keys/{a,b}, settings and brokers/h:1 the way the source does: list,
// then read each node.
ZnodeTree loaded_tree() {
  ZnodeTree tree("/intake");
  tree.add("");
  EXPECT_EQ(tree.set_children("", {"settings", "keys", "brokers"}, {10, 12, 3}),
            (std::vector<std::string>{"brokers", "keys", "settings"}));
  EXPECT_EQ(tree.set_children("keys", {"b", "a"}, {4, 9, 2}), (std::vector<std::string>{"keys/a", "keys/b"}));
  EXPECT_EQ(tree.set_children("brokers", {"h:1"}, {5, 6, 1}), (std::vector<std::string>{"brokers/h:1"}));
  for (const char* leaf : {"settings", "keys/a", "keys/b", "brokers/h:1"}) {
    EXPECT_TRUE(tree.set_children(leaf, {}, {}).empty());
  }
  tree.set_data("keys", "", {4, 9, 2});
  tree.set_data("brokers", "", {5, 6, 1});
  tree.set_data("settings", R"({"default_mode":"sync"})", {11, 11, 0});
  tree.set_data("keys/a", R"({"a":1})", {7, 7, 0});
  tree.set_data("keys/b", R"({"b":2})", {8, 8, 0});
  tree.set_data("brokers/h:1", "", {6, 6, 0});
  return tree;
}

TEST(ZnodeTree, AssemblesEntriesRelativeToTheRootWithTheHighestZxidAsRevision) {
  const config::RawTree raw = loaded_tree().assemble();
  EXPECT_EQ(raw.prefix, "/intake/");
  EXPECT_EQ(raw.revision, "0xc");
  EXPECT_EQ(raw.entries, (std::map<std::string, std::string>{{"brokers/h:1", ""},
                                                             {"keys/a", R"({"a":1})"},
                                                             {"keys/b", R"({"b":2})"},
                                                             {"settings", R"({"default_mode":"sync"})"}}));
}

TEST(ZnodeTree, AFolderEmptiedOfItsKeysReportsNothing) {
  ZnodeTree tree = loaded_tree();
  EXPECT_TRUE(tree.set_children("keys", {}, {4, 20, 4}).empty());
  EXPECT_FALSE(tree.contains("keys/a"));
  const config::RawTree raw = tree.assemble();
  EXPECT_EQ(raw.entries.count("keys"), 0u);
  EXPECT_EQ(raw.entries.size(), 2u);
  EXPECT_EQ(raw.revision, "0x14");
}

TEST(ZnodeTree, AnEntryThatGainsChildrenBecomesAFolder) {
  ZnodeTree tree = loaded_tree();
  EXPECT_EQ(tree.set_children("settings", {"x"}, {11, 21, 1}), (std::vector<std::string>{"settings/x"}));
  tree.set_data("settings/x", "1", {21, 21, 0});
  const config::RawTree raw = tree.assemble();
  EXPECT_EQ(raw.entries.count("settings"), 0u);
  EXPECT_EQ(raw.entries.at("settings/x"), "1");
}

TEST(ZnodeTree, RemovingANodeDropsItsWholeSubtreeButNotItsNeighbours) {
  ZnodeTree tree("/r");
  tree.add("");
  tree.set_children("", {"a", "a-b", "a0", "ab"}, {});
  tree.set_children("a", {"x", "y"}, {});
  tree.set_children("a/x", {"deep"}, {});
  tree.remove("a");
  EXPECT_FALSE(tree.contains("a"));
  EXPECT_FALSE(tree.contains("a/x"));
  EXPECT_FALSE(tree.contains("a/x/deep"));
  EXPECT_FALSE(tree.contains("a/y"));
  EXPECT_TRUE(tree.contains("a-b"));
  EXPECT_TRUE(tree.contains("a0"));
  EXPECT_TRUE(tree.contains("ab"));
  tree.remove("");
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_EQ(tree.assemble().entries.size(), 0u);
  EXPECT_EQ(tree.assemble().revision, "0x0");
}

TEST(ZnodeTree, ListingReturnsOnlyChildrenNotInTheMirrorAndDropsVanishedOnes) {
  ZnodeTree tree = loaded_tree();
  EXPECT_EQ(tree.set_children("keys", {"a", "b", "c"}, {4, 30, 3}), (std::vector<std::string>{"keys/c"}));
  EXPECT_EQ(tree.set_children("keys", {"c", "a"}, {4, 31, 4}), std::vector<std::string>{});
  EXPECT_FALSE(tree.contains("keys/b"));
  // "a" was deleted (its own event dropped it) and re-created before the parent was listed
  // again: it is still in the list, and must be read again all the same.
  tree.remove("keys/a");
  EXPECT_EQ(tree.set_children("keys", {"c", "a"}, {4, 33, 6}), (std::vector<std::string>{"keys/a"}));
}

TEST(ZnodeTree, ReadsOfZnodesNoLongerInTheMirrorAreIgnored) {
  ZnodeTree tree = loaded_tree();
  tree.remove("keys/a");
  EXPECT_FALSE(tree.set_data("keys/a", "late", {99, 99, 0}));
  EXPECT_TRUE(tree.set_children("keys/a", {"z"}, {}).empty());
  EXPECT_FALSE(tree.contains("keys/a"));
  EXPECT_FALSE(tree.contains("keys/a/z"));
  EXPECT_EQ(tree.assemble().revision, "0xc");
}

}  // namespace
}  // namespace intake::sources
