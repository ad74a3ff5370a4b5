#include "sources/znode_tree.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace intake::sources {

std::string normalize_znode_root(std::string_view root) {
  if (root.empty() || root.front() != '/') {
    throw std::invalid_argument("ZooKeeper root '" + std::string(root) + "' must be an absolute path like /intake");
  }
  while (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  if (root == "/") return "/";
  for (std::size_t start = 1; start <= root.size();) {
    const std::size_t end = std::min(root.find('/', start), root.size());
    const std::string_view segment = root.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      throw std::invalid_argument("ZooKeeper root '" + std::string(root) + "' has an empty, '.' or '..' segment");
    }
    start = end + 1;
  }
  return std::string(root);
}

bool is_folder_znode(std::size_t children, std::int32_t cversion, std::string_view data) {
  return children > 0 || (cversion > 0 && data.empty());
}

ZnodeTree::ZnodeTree(std::string root) : root_(std::move(root)) {}

std::string ZnodeTree::absolute(std::string_view relative) const {
  if (relative.empty()) return root_;
  std::string path = root_;
  if (path != "/") path += '/';
  path += relative;
  return path;
}

std::optional<std::string> ZnodeTree::relative(std::string_view absolute) const {
  if (absolute == root_) return std::string();
  const std::size_t skip = root_ == "/" ? 1 : root_.size() + 1;
  if (absolute.size() <= skip || absolute.substr(0, root_.size()) != root_ || absolute[skip - 1] != '/') {
    return std::nullopt;
  }
  return std::string(absolute.substr(skip));
}

void ZnodeTree::add(const std::string& relative) { nodes_.try_emplace(relative); }

void ZnodeTree::remove(const std::string& relative) {
  if (relative.empty()) {
    nodes_.clear();
    return;
  }
  nodes_.erase(relative);
  // Descendants sort right after "<relative>/" and before "<relative>0" ('0' follows '/').
  const auto first = nodes_.lower_bound(relative + '/');
  const auto last = nodes_.lower_bound(relative + char('/' + 1));
  nodes_.erase(first, last);
}

bool ZnodeTree::set_data(const std::string& relative, std::string data, const ZnodeStat& stat) {
  const auto it = nodes_.find(relative);
  if (it == nodes_.end()) return false;
  it->second.data = std::move(data);
  it->second.stat = stat;
  return true;
}

std::vector<std::string> ZnodeTree::set_children(const std::string& relative, std::vector<std::string> names,
                                                 const ZnodeStat& stat) {
  std::vector<std::string> fresh;
  const auto it = nodes_.find(relative);
  if (it == nodes_.end()) return fresh;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (root_ == "/" && relative.empty()) {
    // ZooKeeper's own subtree (quotas, ensemble config) is not part of anyone's config.
    names.erase(std::remove(names.begin(), names.end(), "zookeeper"), names.end());
  }
  const std::string stem = relative.empty() ? std::string() : relative + '/';
  std::vector<std::string> gone;
  std::set_difference(it->second.children.begin(), it->second.children.end(), names.begin(), names.end(),
                      std::back_inserter(gone));
  it->second.children = std::move(names);
  it->second.stat = stat;
  const std::vector<std::string>& listed = it->second.children;  // `it` stays valid: only others are erased
  for (const auto& name : gone) remove(stem + name);
  // New is "not in the mirror", not "not in the last list": a child deleted and re-created
  // between two lists was already dropped by its own deletion event and must be read again.
  for (const auto& name : listed) {
    std::string child = stem + name;
    if (nodes_.try_emplace(child).second) fresh.push_back(std::move(child));
  }
  return fresh;
}

config::RawTree ZnodeTree::assemble() const {
  config::RawTree tree;
  tree.prefix = root_ == "/" ? root_ : root_ + '/';
  std::int64_t revision = 0;
  for (const auto& [relative, node] : nodes_) {
    revision = std::max({revision, node.stat.mzxid, node.stat.pzxid});
    if (relative.empty() || is_folder_znode(node.children.size(), node.stat.cversion, node.data)) continue;
    tree.entries.emplace_hint(tree.entries.end(), relative, node.data);
  }
  char hex[2 + 16 + 1];
  std::snprintf(hex, sizeof(hex), "0x%llx", static_cast<unsigned long long>(revision));
  tree.revision = hex;
  return tree;
}

}  // namespace intake::sources
