// Keeps the modules' metric lists and docs/metrics.md in step, and the names conventional.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "app/gateway.h"
#include "metrics/metric.h"

namespace intake::metrics {
namespace {

struct DocRow {
  std::string type;
  std::string meaning;
};

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(' ');
  const auto last = text.find_last_not_of(' ');
  return first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
}

// Rows of the table in docs/metrics.md: | `name` | type | module | meaning |
std::map<std::string, DocRow> documented_families() {
  std::ifstream file(std::string(INTAKE_SOURCE_DIR) + "/docs/metrics.md");
  EXPECT_TRUE(file.good()) << "docs/metrics.md is missing";
  std::map<std::string, DocRow> rows;
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind("| `intake_", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream cells_in(line.substr(1));
    std::string cell;
    while (std::getline(cells_in, cell, '|')) cells.push_back(trim(cell));
    EXPECT_GE(cells.size(), 4u) << line;
    if (cells.size() < 4) continue;
    const std::string name = cells[0].substr(1, cells[0].size() - 2);  // without the backticks
    EXPECT_TRUE(rows.emplace(name, DocRow{cells[1], cells[3]}).second) << name << " is listed twice";
  }
  return rows;
}

std::vector<const MetricFamily*> all_families() {
  std::vector<const MetricFamily*> out;
  for (const auto list : app::gateway_metric_families()) out.insert(out.end(), list.begin(), list.end());
  return out;
}

TEST(MetricFamilies, NamesAreUniqueConventionalAndHaveHelp) {
  std::set<std::string_view> seen;
  const auto families = all_families();
  EXPECT_GE(families.size(), 20u);
  for (const auto* family : families) {
    EXPECT_TRUE(seen.insert(family->name).second) << family->name << " is declared twice";
    EXPECT_EQ(family->name.rfind("intake_", 0), 0u) << family->name;
    const bool total = family->name.size() > 6 && family->name.substr(family->name.size() - 6) == "_total";
    EXPECT_EQ(total, family->type == MetricType::kCounter)
        << family->name << ": counters, and only they, end in _total";
    if (family->type == MetricType::kHistogram) {
      EXPECT_TRUE(family->name.ends_with("_seconds")) << family->name << ": histograms here measure time, in seconds";
    }
    EXPECT_FALSE(family->help.empty()) << family->name;
    for (char c : family->name) {
      EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << family->name;
    }
  }
}

TEST(MetricFamilies, DocsListEveryFamilyWithItsTypeAndHelp) {
  auto documented = documented_families();
  for (const auto* family : all_families()) {
    const std::string name(family->name);
    auto it = documented.find(name);
    if (it == documented.end()) {
      ADD_FAILURE() << name << " is not in docs/metrics.md";
      continue;
    }
    EXPECT_EQ(it->second.type, std::string(type_name(family->type))) << name;
    EXPECT_EQ(it->second.meaning, std::string(family->help)) << name;
    documented.erase(it);
  }
  for (const auto& [name, row] : documented)
    ADD_FAILURE() << name << " is in docs/metrics.md but no module declares it";
}

}  // namespace
}  // namespace intake::metrics
