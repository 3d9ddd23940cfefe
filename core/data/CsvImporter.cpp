#include "data/CsvImporter.h"

#include "base/Error.h"
#include "data/FileBytes.h"
#include "data/Split.h"

#include <QFileInfo>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>

namespace raven::data {

namespace {

struct Row {
    std::int64_t line = 0;  // 1-based
    std::vector<std::string> cells;
};

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t");
    return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> splitLine(std::string_view line, char delim, const QString& path, std::int64_t lineNo) {
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false, wasQuoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                cell += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                cell += c;
            }
        } else if (c == '"' && trim(cell).empty()) {
            quoted = wasQuoted = true;
            cell.clear();
        } else if (c == delim) {
            cells.push_back(wasQuoted ? cell : trim(cell));
            cell.clear();
            wasQuoted = false;
        } else {
            cell += c;
        }
    }
    RAVEN_CHECK(!quoted, str(path) + ":" + std::to_string(lineNo) + ": a quoted field is not closed on its line",
                "close the quote; quoted fields cannot span lines");
    cells.push_back(wasQuoted ? cell : trim(cell));
    return cells;
}

std::optional<float> parseNumber(const std::string& s) {
    if (s.empty()) return std::nullopt;
    const char* b = s.data();
    const char* e = b + s.size();
    if (*b == '+') ++b;  // from_chars refuses a leading '+'
    float v = 0;
    const auto [ptr, ec] = std::from_chars(b, e, v);
    if (ec != std::errc() || ptr != e || !std::isfinite(v)) return std::nullopt;
    return v;
}

std::optional<std::int64_t> parseIndex(const std::string& s) {
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

}  // namespace

Dataset importCsv(const QString& path, const CsvImportOptions& options) {
    const QByteArray bytes = readSourceFile(path);
    std::string_view text(bytes.constData(), static_cast<std::size_t>(bytes.size()));
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);

    std::vector<Row> rows;
    std::int64_t lineNo = 0;
    for (std::size_t pos = 0; pos <= text.size();) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        if (line.ends_with('\r')) line.remove_suffix(1);
        ++lineNo;
        if (!trim(line).empty()) rows.push_back({lineNo, splitLine(line, options.delimiter, path, lineNo)});
        pos = end + 1;
    }
    RAVEN_CHECK(!rows.empty(), str(path) + ": the file has no rows", "a CSV dataset needs one sample per line");

    const auto columns = static_cast<std::int64_t>(rows[0].cells.size());
    RAVEN_CHECK(columns >= 2,
                str(path) + ":" + std::to_string(rows[0].line) + ": only one column (delimiter '" +
                    std::string(1, options.delimiter) + "')",
                "a CSV dataset needs at least one feature column and a label column; check the delimiter");
    const auto labelIndexOption = parseIndex(options.labelColumn);
    const bool labelByName = !options.labelColumn.empty() && !labelIndexOption;

    bool hasHeader = options.header == CsvHeader::Present;
    if (options.header == CsvHeader::Auto) {
        const auto candidate = labelIndexOption.value_or(columns - 1);
        for (std::int64_t c = 0; c < columns; ++c)
            // An empty cell is a missing number, not a column name.
            if (const auto& cell = rows[0].cells[static_cast<std::size_t>(c)];
                c != candidate && !cell.empty() && !parseNumber(cell))
                hasHeader = true;
        if (labelByName) hasHeader = true;
    }
    RAVEN_CHECK(!(labelByName && !hasHeader),
                str(path) + ": the label column is named '" + options.labelColumn + "' but the file has no header",
                "give the label column as a 0-based index, or add a header line");

    std::vector<std::string> names;
    if (hasHeader)
        names = rows[0].cells;
    else
        for (std::int64_t c = 0; c < columns; ++c) names.push_back("column " + std::to_string(c));

    std::int64_t labelCol = columns - 1;
    if (labelByName) {
        const auto it = std::find(names.begin(), names.end(), options.labelColumn);
        if (it == names.end()) {
            std::string all;
            for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
            fail(str(path) + ": no column named '" + options.labelColumn + "' in the header",
                 "the columns are: " + all);
        }
        labelCol = it - names.begin();
    } else if (labelIndexOption) {
        labelCol = *labelIndexOption;
        RAVEN_CHECK(labelCol < columns,
                    str(path) + ": label column " + std::to_string(labelCol) + " but rows have " +
                        std::to_string(columns) + " columns",
                    "column indices start at 0");
    } else if (hasHeader) {
        for (std::int64_t c = 0; c < columns; ++c)
            if (lower(names[static_cast<std::size_t>(c)]) == "label") labelCol = c;
    }

    const std::size_t first = hasHeader ? 1 : 0;
    std::vector<float> features;
    features.reserve((rows.size() - first) * static_cast<std::size_t>(columns - 1));
    std::vector<std::string> labelTexts;
    for (std::size_t r = first; r < rows.size(); ++r) {
        const Row& row = rows[r];
        const auto where = str(path) + ":" + std::to_string(row.line);
        RAVEN_CHECK(static_cast<std::int64_t>(row.cells.size()) == columns,
                    where + ": " + std::to_string(row.cells.size()) + " fields, but the first line has " +
                        std::to_string(columns),
                    "every line needs the same number of fields; quote fields that contain the delimiter");
        for (std::int64_t c = 0; c < columns; ++c) {
            const auto& cell = row.cells[static_cast<std::size_t>(c)];
            if (c == labelCol) {
                RAVEN_CHECK(!cell.empty(),
                            where + ", column " + std::to_string(c + 1) + " ('" + names[static_cast<std::size_t>(c)] +
                                "'): the label is empty",
                            "every sample needs a label");
                labelTexts.push_back(cell);
                continue;
            }
            const auto v = parseNumber(cell);
            if (!v)
                fail(where + ", column " + std::to_string(c + 1) + " ('" + names[static_cast<std::size_t>(c)] +
                         "'): '" + cell + "' is not a number",
                     "feature columns must hold finite numbers (e.g. 3.5, -1e-3); fix or remove that line, or "
                     "name the label column if this is it");
            features.push_back(*v);
        }
    }

    // Integer labels are indices as they are; otherwise each distinct text is a class name.
    bool numeric = true;
    std::int64_t maxIndex = 0;
    for (const auto& t : labelTexts) {
        const auto v = parseIndex(t);
        if (!v || *v > INT32_MAX) {
            numeric = false;
            break;
        }
        maxIndex = std::max(maxIndex, *v);
    }
    Dataset ds;
    std::vector<std::int32_t> labels;
    if (numeric) {
        ds.classes = numberedClasses(maxIndex + 1, str(path));
        for (const auto& t : labelTexts) labels.push_back(static_cast<std::int32_t>(*parseIndex(t)));
    } else {
        std::map<std::string, std::int32_t> index;
        for (const auto& t : labelTexts) index.emplace(t, 0);
        for (auto& [name, i] : index) {
            i = static_cast<std::int32_t>(ds.classes.size());
            ds.classes.push_back(name);
        }
        for (const auto& t : labelTexts) labels.push_back(index.at(t));
    }
    RAVEN_CHECK(!labels.empty(), str(path) + ": the file has a header but no samples", "add one sample per line");
    Samples labelled({columns - 1}, {});
    labelled.assign(std::move(features), std::move(labels));

    ds.name = options.name.empty() ? str(QFileInfo(path).completeBaseName()) : options.name;
    ds.elementType = ElementType::F32;
    std::tie(ds.train, ds.test) = splitSamples(labelled, options.testFraction, options.seed);
    ds.validate(str(path));
    ds.normalization = Normalization::fit(ds.train, options.normalization);
    return ds;
}

}  // namespace raven::data
