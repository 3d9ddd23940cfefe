// The autograd graph (accumulation, no-grad, freeing, diamonds, errors) and a finite-difference check
// of every op in OpCases.h.
#include <QtTest>

#include "autograd/OpCases.h"
#include "autograd/Ops.h"
#include "base/Error.h"
#include "common/GradCheck.h"

using namespace raven;

class TestAutograd : public QObject {
    Q_OBJECT

private slots:
    void finiteDifferencesOfEveryOp_data();
    void finiteDifferencesOfEveryOp();
    void checkerCatchesAWrongGradient();
    void gradientsAccumulateAcrossCalls();
    void zeroGradForgets();
    void noGradRecordsNothing();
    void noGradIsPerThread();
    void graphIsFreedAfterBackward();
    void secondBackwardThroughFreedGraphThrows();
    void diamondGraphSumsBothPaths();
    void onlyInputsThatNeedGradientsGetThem();
    void backwardNeedsAScalar();
    void shapeErrorsNameBothShapes();
    void shapesMayChangeBetweenBatches();
    void detachCutsTheGraph();
};

void TestAutograd::finiteDifferencesOfEveryOp_data() {
    QTest::addColumn<int>("index");
    const auto cases = test::opCases();
    for (size_t i = 0; i < cases.size(); ++i) QTest::newRow(cases[i].name.c_str()) << static_cast<int>(i);
}

void TestAutograd::finiteDifferencesOfEveryOp() {
    QFETCH(int, index);
    const test::OpCase c = test::opCases()[static_cast<size_t>(index)];
    Generator gen(100 + static_cast<uint64_t>(index));
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < c.shapes.size(); ++i) {
        inputs.push_back(test::drawInput(c.shapes[i], i < c.kinds.size() ? c.kinds[i] : test::InputKind::Any, gen));
    }
    const auto result = test::checkGradients(c.f, inputs);
    QVERIFY2(result.ok, (c.name + ":\n" + result.report).c_str());
}

void TestAutograd::checkerCatchesAWrongGradient() {
    // An op whose backward is off by a factor 2 must fail the check.
    auto wrongSquare = [](const std::vector<Variable>& v) {
        return makeResult(raven::mul(v[0].tensor(), v[0].tensor()), {v[0]}, "wrongSquare",
                          [x = v[0].tensor()](const Tensor& g, const std::vector<bool>&) {
                              return std::vector<Tensor>{raven::mul(g, mulScalar(x, 4.0f))};
                          });
    };
    Generator gen(1);
    const auto result = test::checkGradients(wrongSquare, {uniform({3}, 0.5f, 1.0f, gen)});
    QVERIFY(!result.ok);
    QVERIFY(!result.report.empty());
}

void TestAutograd::gradientsAccumulateAcrossCalls() {
    Variable w(fromVector({2}, {1.0f, 2.0f}), true);
    Variable x(fromVector({2}, {3.0f, 5.0f}));
    sum(w * x).backward();
    sum(w * x).backward();
    QCOMPARE(w.grad().toVector(), (std::vector<float>{6.0f, 10.0f}));
    QVERIFY(!x.hasGrad());
}

void TestAutograd::zeroGradForgets() {
    Variable w(fromVector({2}, {1.0f, 2.0f}), true);
    sum(w * 3.0f).backward();
    w.zeroGrad();
    QVERIFY(!w.hasGrad());
    sum(w * 2.0f).backward();
    QCOMPARE(w.grad().toVector(), (std::vector<float>{2.0f, 2.0f}));
}

void TestAutograd::noGradRecordsNothing() {
    Variable w(ones({2, 2}), true);
    {
        NoGradGuard guard;
        QVERIFY(!isGradEnabled());
        const Variable y = relu(w * 2.0f);
        QVERIFY(!y.requiresGrad());
        QVERIFY(y.node() == nullptr);
        QVERIFY_THROWS_EXCEPTION(Error, sum(y).backward());
    }
    QVERIFY(isGradEnabled());
    QVERIFY(relu(w).requiresGrad());
}

void TestAutograd::noGradIsPerThread() {
    NoGradGuard guard;
    bool otherThreadRecords = false;
    std::thread other([&] { otherThreadRecords = isGradEnabled(); });
    other.join();
    QVERIFY(otherThreadRecords);
    QVERIFY(!isGradEnabled());
}

void TestAutograd::graphIsFreedAfterBackward() {
    Variable w(fromVector({3}, {1, 2, 3}), true);
    std::weak_ptr<GradNode> hiddenNode;
    std::weak_ptr<Storage> savedTensor;
    Variable loss;
    {
        Variable hidden = exp(w);  // its node keeps exp's result for the backward pass
        hiddenNode = hidden.node();
        savedTensor = hidden.tensor().storage();
        loss = sum(hidden * 2.0f);
    }
    QVERIFY(!hiddenNode.expired());  // the graph holds it until backward
    QVERIFY(!savedTensor.expired());
    loss.backward();
    QVERIFY(hiddenNode.expired());
    QVERIFY(savedTensor.expired());
    QVERIFY(loss.node()->released);
    QVERIFY(loss.node()->inputs.empty());
    QVERIFY(w.hasGrad());
}

void TestAutograd::secondBackwardThroughFreedGraphThrows() {
    Variable w(ones({2}), true);
    Variable loss = sum(w * w);
    loss.backward();
    try {
        loss.backward();
        QFAIL("a second backward through a freed graph must throw");
    } catch (const Error& e) {
        QVERIFY(std::string(e.what()).find("already") != std::string::npos);
    }
}

void TestAutograd::diamondGraphSumsBothPaths() {
    // y = a * b where a = 2x and b = x + 1 share x: dy/dx = 2(x + 1) + 2x = 4x + 2.
    Variable x(fromVector({3}, {0.0f, 1.0f, -2.0f}), true);
    const Variable a = x * 2.0f;
    const Variable b = x + 1.0f;
    sum(a * b).backward();
    QCOMPARE(x.grad().toVector(), (std::vector<float>{2.0f, 6.0f, -6.0f}));

    // A deeper diamond: one value used by many later ops, each reached once.
    Variable z(fromVector({1}, {0.5f}), true);
    Variable acc = z;
    for (int i = 0; i < 50; ++i) acc = acc + z;  // 51 z
    acc.backward();
    QCOMPARE(z.grad().item(), 51.0f);
}

void TestAutograd::onlyInputsThatNeedGradientsGetThem() {
    Variable a(ones({2, 3}), true);
    Variable b(ones({3, 4}), false);
    const Variable y = matmul(a, b);
    QVERIFY(y.node()->inputs[0] != nullptr);
    QVERIFY(y.node()->inputs[1] == nullptr);
    sum(y).backward();
    QVERIFY(a.hasGrad());
    QVERIFY(!b.hasGrad());
    QCOMPARE(a.grad().shape(), (Shape{2, 3}));
}

void TestAutograd::backwardNeedsAScalar() {
    Variable w(ones({2, 2}), true);
    try {
        (w * 2.0f).backward();
        QFAIL("backward of a non-scalar must throw");
    } catch (const Error& e) {
        QVERIFY(std::string(e.what()).find("[2,2]") != std::string::npos);
    }
    // With an explicit upstream gradient it works.
    (w * 2.0f).backward(ones({2, 2}));
    QCOMPARE(w.grad().toVector(), (std::vector<float>(4, 2.0f)));
}

void TestAutograd::shapeErrorsNameBothShapes() {
    Variable a(ones({3, 4}), true), b(ones({5, 6}), true);
    try {
        matmul(a, b);
        QFAIL("matmul of [3,4] and [5,6] must throw");
    } catch (const Error& e) {
        QCOMPARE(e.message(), std::string("matmul: [3,4] x [5,6]: inner dimensions 4 and 5 differ"));
    }
    try {
        add(a, Variable(ones({2, 4})));
        QFAIL("add of [3,4] and [2,4] must throw");
    } catch (const Error& e) {
        QVERIFY(e.message().find("[3,4]") != std::string::npos && e.message().find("[2,4]") != std::string::npos);
    }
    try {
        linear(a, Variable(ones({2, 5})));
        QFAIL("linear with mismatched features must throw");
    } catch (const Error& e) {
        QVERIFY(e.message().find("[3,4]") != std::string::npos && e.message().find("[2,5]") != std::string::npos);
    }
    try {
        mse(a, Variable(ones({4, 3})));
        QFAIL("mse of different shapes must throw");
    } catch (const Error& e) {
        QVERIFY(e.message().find("[3,4]") != std::string::npos && e.message().find("[4,3]") != std::string::npos);
    }
    QVERIFY_THROWS_EXCEPTION(Error, crossEntropy(a, fromVector({3}, {0, 1, 7})));  // class 7 of 4
    QVERIFY_THROWS_EXCEPTION(Error, crossEntropy(a, fromVector({2}, {0, 1})));     // 2 targets, 3 rows
}

void TestAutograd::shapesMayChangeBetweenBatches() {
    Generator gen(3);
    Variable w(randn({4, 3}, gen), true);
    for (int64_t batch : {1, 5, 2}) {
        Variable x(randn({batch, 3}, gen));
        sum(tanh(linear(x, w))).backward();
    }
    QCOMPARE(w.grad().shape(), (Shape{4, 3}));
}

void TestAutograd::detachCutsTheGraph() {
    Variable w(fromVector({2}, {1.0f, 2.0f}), true);
    const Variable frozen = (w * 3.0f).detach();
    QVERIFY(!frozen.requiresGrad());
    sum(frozen * w).backward();
    QCOMPARE(w.grad().toVector(), (std::vector<float>{3.0f, 6.0f}));
}

QTEST_APPLESS_MAIN(TestAutograd)
#include "TestAutograd.moc"
