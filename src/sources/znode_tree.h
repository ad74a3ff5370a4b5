// ZnodeTree: the ZooKeeper source's mirror of one subtree — every znode under the root as it
// was last read, with its data, child names and zxids — and the rule that turns it into a
// RawTree. Pure logic, no I/O: the source (sources/zookeeper.h) feeds it read results in the
// order the server answered them.
//
// Mapping (docs in sources/zookeeper.h): the root "/intake" is the prefix; the znode
// "/intake/keys/team-a" is the entry "keys/team-a". A znode is a *folder* (not reported; its
// data is ignored) when it has children, or when it had some once (cversion > 0) and holds no
// data — so "/intake/keys" left empty after its last key was deleted stays a folder instead of
// turning into an entry "keys" the builder would reject. Any other znode is an *entry*, its
// data the value, possibly empty (e.g. "brokers/h:9092"). The root is always a folder. With
// the root "/", ZooKeeper's own "/zookeeper" subtree is left out.
//
// REQUIRES: external synchronization (the source touches it from its own thread only).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/raw_tree.h"

namespace intake::sources {

// The fields of a ZooKeeper Stat that the mirror uses.
struct ZnodeStat {
  std::int64_t mzxid = 0;     // zxid of the last data change
  std::int64_t pzxid = 0;     // zxid of the last change to the children
  std::int32_t cversion = 0;  // how many times the children changed
};

// Returns the root in canonical form: absolute, no trailing '/' (except "/" itself), no empty
// or "."/".." segments. Throws std::invalid_argument otherwise (start-up only).
std::string normalize_znode_root(std::string_view root);

// Returns true iff a znode with these properties is a folder (see the header comment).
bool is_folder_znode(std::size_t children, std::int32_t cversion, std::string_view data);

class ZnodeTree {
 public:
  explicit ZnodeTree(std::string root);  // REQUIRES: normalize_znode_root(root) == root

  const std::string& root() const { return root_; }

  // "keys/a" → "/intake/keys/a"; "" → the root itself.
  std::string absolute(std::string_view relative) const;
  // The inverse; nullopt for a path outside the root.
  std::optional<std::string> relative(std::string_view absolute) const;

  bool contains(const std::string& relative) const { return nodes_.count(relative) != 0; }
  std::size_t size() const { return nodes_.size(); }

  // Records that a znode exists (the root, or a child its parent listed); not yet read.
  void add(const std::string& relative);
  // Forgets a znode and everything below it.
  void remove(const std::string& relative);
  void clear() { nodes_.clear(); }

  // Applies a data read. Returns false (and changes nothing) for a znode not in the tree.
  bool set_data(const std::string& relative, std::string data, const ZnodeStat& stat);
  // Applies a children read: drops the subtrees of children no longer listed, adds the new
  // ones and returns their relative paths (to be read). Empty for a znode not in the tree.
  std::vector<std::string> set_children(const std::string& relative, std::vector<std::string> names,
                                        const ZnodeStat& stat);

  // The entries as a RawTree (prefix = root + "/"), revision = the highest mzxid/pzxid in the
  // tree as "0x<hex>" like zkCli prints zxids ("0x0" for a missing root). Nodes not read yet
  // count as entries with empty values; the source only assembles once every read completed.
  config::RawTree assemble() const;

 private:
  struct Node {
    std::string data;
    std::vector<std::string> children;  // names, sorted
    ZnodeStat stat;
  };

  std::string root_;
  std::map<std::string, Node> nodes_;  // by relative path; "" is the root
};

}  // namespace intake::sources
