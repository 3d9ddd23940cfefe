// The CSV importer: the first byte picks the delimiter, the header mode and the label column; the
// rest is the file.
#include "FuzzTarget.h"
#include "data/CsvImporter.h"

using namespace raven;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Reader in(data, size);
    const std::uint8_t mode = in.u8();
    data::CsvImportOptions options;
    static const char delimiters[] = {',', ';', '\t', ' '};
    options.delimiter = delimiters[mode % 4];
    static const data::CsvHeader headers[] = {data::CsvHeader::Auto, data::CsvHeader::Present, data::CsvHeader::Absent};
    options.header = headers[(mode / 4) % 3];
    static const char* columns[] = {"", "label", "0", "2", "species"};
    options.labelColumn = columns[(mode / 12) % 5];
    const QString path = fuzz::Scratch::instance().write("data.csv", in.rest());
    fuzz::expectErrors([&] { data::importCsv(path, options); });
    return 0;
}
