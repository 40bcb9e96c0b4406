// The plan library without the binary: targets parse or are refused with the reason, the
// bisection's answer meets the target and one less does not, and a range where nothing meets is
// an answer (no value, and why), not an error.
#include "whatif/plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "test_support.hpp"

namespace kunsim {
namespace {

TEST(PlanLibrary, TargetsParseOrSayWhyNot) {
  const PlanTarget a = PlanTarget::parse("0.95");
  EXPECT_EQ(a.metric, "attainment");
  EXPECT_DOUBLE_EQ(a.bound, 0.95);
  const PlanTarget t = PlanTarget::parse("ttft.p99<=2");
  EXPECT_EQ(t.metric, "ttft");
  EXPECT_EQ(t.stat, "p99");
  EXPECT_TRUE(t.at_most);
  EXPECT_THROW(PlanTarget::parse("ttft.p99>=2"), InputError);
  EXPECT_THROW(PlanTarget::parse("ttft.p42<=2"), InputError);
  EXPECT_THROW(PlanTarget::parse("1.5"), InputError);
}

TEST(PlanLibrary, AWindowTargetNamesItsWindow) {
  const PlanTarget t = PlanTarget::parse("burst.ttft.p99<=2");
  EXPECT_EQ(t.window, "burst");
  EXPECT_EQ(t.metric, "ttft");
  EXPECT_EQ(t.stat, "p99");
  const PlanTarget a = PlanTarget::parse("burst.attainment>=0.9");
  EXPECT_EQ(a.window, "burst");
  EXPECT_EQ(a.metric, "attainment");
  EXPECT_TRUE(PlanTarget::parse("ttft.p99<=2").window.empty());
  EXPECT_THROW(PlanTarget::parse("burst.goodput>=1"), InputError);
  EXPECT_THROW(PlanTarget::parse("burst.ttft.p42<=2"), InputError);
  // The figure is the window's, not the run's.
  const Json s = {{"ttft_s", {{"p99", 1.0}}}, {"windows", {{"burst", {{"ttft_s", {{"p99", 3.0}}}}}}}};
  EXPECT_DOUBLE_EQ(t.value(s), 3.0);
  EXPECT_FALSE(t.meets(s));
  EXPECT_TRUE(PlanTarget::parse("ttft.p99<=2").meets(s));
}

std::string scenario_file(const char* name, double rate) {
  const auto dir = test::scratch(name);
  Json s = test::tiny_cluster_scenario();
  s["workload"]["synthetic"]["rate"] = rate;
  s["workload"]["synthetic"]["duration_s"] = 10;
  s["slo"] = {{"ttft_s", 0.5}, {"tpot_s", 0.1}};
  test::write_file(dir / "s.json", s.dump());
  return (dir / "s.json").string();
}

TEST(PlanLibrary, TheFewestInstancesMeetTheTargetAndOneLessDoesNot) {
  PlanOptions opt;
  opt.target = "0.95";
  const Json plan = run_plan(scenario_file("whatif-plan", 60), {}, opt);
  const Json& r = plan["policies"]["vllm"];
  ASSERT_TRUE(r["value"].is_number()) << plan.dump(2);
  const long long n = r["value"];
  bool met = false, below_fails = n == 1;
  for (const auto& p : r["probes"]) {
    if (p["deployment.instances"] == n) met = p["meets"];
    if (p["deployment.instances"] == n - 1) below_fails = !p["meets"].get<bool>();
  }
  EXPECT_TRUE(met);
  EXPECT_TRUE(below_fails);
}

// Several targets: the answer is the fewest instances meeting all of them, which (the knob being
// monotone) is the larger of the two single-target answers; the target of that larger answer is
// the one named as binding. A plan of latency targets only shows no per-request SLO.
TEST(PlanLibrary, SeveralTargetsAreAllMetAndTheOneThatBindsIsNamed) {
  const std::string file = scenario_file("whatif-plan-two", 60);
  auto answer = [&](const std::string& target) {
    PlanOptions opt;
    opt.target = target;
    return run_plan(file, {}, opt);
  };
  const char* ttft = "ttft.p99<=0.3";
  const char* tpot = "tpot.mean<=0.02";
  const Json a = answer(ttft), b = answer(tpot), both = answer(std::string(ttft) + "," + tpot);
  const Json& ra = a["policies"]["vllm"];
  const Json& rb = b["policies"]["vllm"];
  const Json& r = both["policies"]["vllm"];
  ASSERT_TRUE(ra["value"].is_number() && rb["value"].is_number() && r["value"].is_number()) << both.dump(2);
  const long long na = ra["value"], nb = rb["value"];
  ASSERT_NE(na, nb) << "the test needs targets that bind at different counts";
  EXPECT_EQ(r["value"].get<long long>(), std::max(na, nb));
  EXPECT_EQ(r["binding"], Json::array({na > nb ? ttft : tpot})) << r.dump(2);
  EXPECT_EQ(both["targets"], Json::array({ttft, tpot}));
  EXPECT_FALSE(both.contains("slo")) << "no target counts requests meeting the SLO";
  EXPECT_TRUE(answer(std::string("0.9,") + ttft).contains("slo"));
  EXPECT_NE(plan_table(both).find("binds: "), std::string::npos) << plan_table(both);
  EXPECT_THROW(answer(std::string(ttft) + ",,"), InputError);
}

// --headroom 2 sizes for twice the rate: the same answer and probes as the plan of the workload
// at twice its rate, and a headroom with --vary workload.rate_scale is refused.
// A window target is met by the window's own figure at every probe; a window the scenario lacks
// is refused before the search, naming the windows it has.
TEST(PlanLibrary, AWindowTargetIsSearchedOnTheWindowsFigure) {
  PlanOptions opt;
  opt.target = "burst.ttft.p99<=2";
  try {
    run_plan(scenario_file("whatif-plan-nowindow", 60), {}, opt);
    ADD_FAILURE() << "a target on a missing window is accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no metric window \"burst\""), std::string::npos) << e.what();
  }
  opt.target = "burst.ttft.p99<=0.5";
  const Json plan = run_plan(scenario_file("whatif-plan-window", 60),
                             {R"(workload.bursts=[{"start_s": 4, "duration_s": 2, "multiplier": 3}])"}, opt);
  const Json& r = plan["policies"]["vllm"];
  ASSERT_TRUE(r["value"].is_number()) << plan.dump(2);
  for (const auto& p : r["probes"]) {
    const double v = p["target_values"]["burst.ttft.p99<=0.5"];
    EXPECT_EQ(p["meets"].get<bool>(), v <= 0.5) << p.dump();
  }
}

TEST(PlanLibrary, HeadroomSizesForAHigherRate) {
  PlanOptions opt;
  opt.target = "0.95";
  const Json doubled = run_plan(scenario_file("whatif-plan-60", 60), {}, opt);
  opt.headroom = 2;
  const Json roomy = run_plan(scenario_file("whatif-plan-30", 30), {}, opt);
  EXPECT_EQ(roomy["policies"]["vllm"]["value"], doubled["policies"]["vllm"]["value"]) << roomy.dump(2);
  EXPECT_EQ(roomy["policies"]["vllm"]["probes"], doubled["policies"]["vllm"]["probes"]);
  EXPECT_EQ(roomy["headroom"]["rate_scale"], 2.0);
  EXPECT_NE(plan_table(roomy).find("2x headroom"), std::string::npos);
  opt.vary = "workload.rate_scale";
  EXPECT_THROW(run_plan(scenario_file("whatif-plan-30r", 30), {}, opt), InputError);
  opt.vary = "deployment.instances";
  opt.headroom = 0.5;
  EXPECT_THROW(run_plan(scenario_file("whatif-plan-30h", 30), {}, opt), InputError);
}

// --seeds 3: one search per seed; the answer holds for every seed, so (each seed's search being
// monotone) it is the largest of the three single-seed answers, and with a quantile of 1/3 the
// smallest; plan.json lists each seed's answer and their spread.
// Headroom: the answer's count still meets the targets at the highest rate found, which is at
// least the rate it was sized for.
TEST(PlanLibrary, HeadroomIsTheHighestRateTheAnswerCarries) {
  PlanOptions opt;
  opt.target = "ttft.p99<=0.5";
  const std::string file = scenario_file("whatif-plan-headroom", 60);
  const Json plan = run_plan(file, {}, opt);
  const Json& r = plan["policies"]["vllm"];
  ASSERT_TRUE(r["value"].is_number()) << plan.dump(2);
  const Json& h = r["headroom"];
  ASSERT_TRUE(h.is_object()) << r.dump(2);
  EXPECT_GE(h["factor"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(h["factor"].get<double>(), h["max_rate_scale"].get<double>());  // sized for rate_scale 1
  Json at = Json::parse(test::read_file(file));
  at["deployment"]["instances"] = r["value"];
  at["workload"]["rate_scale"] = h["max_rate_scale"];
  at["cluster"]["nodes"] = (r["value"].get<int>() + 1) / 2;
  EXPECT_LE(test::run_scenario(at)["ttft_s"]["p99"].get<double>(), 0.5);
  EXPECT_NE(plan_table(plan).find(" headroom "), std::string::npos);
}

// The shape search, worked by hand (the README's whole question in small: two targets, 20%
// headroom, 2 seeds): llama-3.1-70b on H100 or H200 at TP 2 or 4. TP 2 on an 80 GB
// H100 cannot hold the weights (a row with the reason); every other shape's answer is the plan of
// that shape alone; its dollars are instances x TP x the kind's price, its nodes the GPUs over 8
// rounded up; and the cheapest $/hour is marked.
TEST(PlanLibrary, AShapeSearchPlansEveryShapeAndMarksTheCheapest) {
  const auto dir = test::scratch("whatif-plan-shapes");
  Json s = test::tiny_cluster_scenario();  // its workload, at 16 requests/s of shorter requests
  s["model"] = "llama-3.1-70b";
  s["cluster"] = Json::parse(R"({"gpu": "h100-sxm", "nodes": 1, "gpus_per_node": 8,
                                 "price_per_gpu_hour": {"h100-sxm": 2.0, "h200": 3.0}})");
  s["deployment"] = {{"instances", 1}, {"tp", 4}};
  Json& w = s["workload"]["synthetic"];
  w["rate"] = 16;
  w["duration_s"] = 20;
  w["input_tokens"]["min"] = 200;
  w["input_tokens"]["max_value"] = 1200;
  w["output_tokens"]["min"] = 20;
  w["output_tokens"]["max_value"] = 200;
  test::write_file(dir / "s.json", s.dump());
  PlanOptions opt;
  opt.target = "ttft.p99<=0.4,tpot.mean<=0.03";
  opt.shapes = {"cluster.gpu=h100-sxm,h200", "deployment.tp=2,4"};
  opt.headroom = 1.2;  // the whole question in small: two targets, headroom, seeds
  opt.seeds = 2;
  opt.max = 8;
  opt.threads = 2;
  const Json plan = run_plan((dir / "s.json").string(), {}, opt);
  const Json& rows = plan["shapes"];
  ASSERT_EQ(rows.size(), 4u) << plan.dump(2);
  const std::vector<std::pair<std::string, int>> order = {{"h100-sxm", 2}, {"h100-sxm", 4}, {"h200", 2}, {"h200", 4}};
  const std::map<std::string, double> price = {{"h100-sxm", 2.0}, {"h200", 3.0}};
  ASSERT_TRUE(rows[0].contains("infeasible")) << rows[0].dump(2);
  EXPECT_NE(rows[0]["infeasible"].get<std::string>().find("does not fit"), std::string::npos);
  double least = 1e300;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto& [gpu, tp] = order[i];
    EXPECT_EQ(rows[i]["shape"]["cluster.gpu"], gpu);
    EXPECT_EQ(rows[i]["shape"]["deployment.tp"], std::to_string(tp));
    const Json& a = rows[i]["policies"]["vllm"];
    ASSERT_TRUE(a["value"].is_number()) << rows[i].dump(2);
    PlanOptions one = opt;
    one.shapes.clear();
    const Json alone =
        run_plan((dir / "s.json").string(),
                 {"cluster.gpu=" + gpu, "deployment.tp=" + std::to_string(tp), "deployment.instances=1"}, one);
    EXPECT_EQ(a["value"], alone["policies"]["vllm"]["value"]) << gpu << " tp " << tp;
    const long long n = a["value"], gpus = n * tp;
    EXPECT_EQ(a["gpus"].get<long long>(), gpus);
    EXPECT_EQ(a["nodes"].get<long long>(), (gpus + 7) / 8);
    EXPECT_DOUBLE_EQ(a["dollars_per_hour"].get<double>(), static_cast<double>(gpus) * price.at(gpu));
    EXPECT_GE(a["headroom"]["factor"].get<double>(), 1.0);
    EXPECT_EQ(a["seeds"].size(), 2u);
    least = std::min(least, a["dollars_per_hour"].get<double>());
  }
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const Json& a = rows[i]["policies"]["vllm"];
    EXPECT_EQ(a.value("cheapest", false), a["dollars_per_hour"].get<double>() == least) << rows[i].dump(2);
  }
  const std::string table = plan_table(plan);
  EXPECT_NE(table.find("infeasible: "), std::string::npos) << table;
  EXPECT_NE(table.find("vllm *"), std::string::npos) << table;
  // A misspelt axis is bad input, not four infeasible shapes.
  opt.shapes = {"cluster.gpuu=h100-sxm,h200"};
  EXPECT_THROW(run_plan((dir / "s.json").string(), {}, opt), InputError);
  opt.shapes = {"deployment.instances=1,2"};
  EXPECT_THROW(run_plan((dir / "s.json").string(), {}, opt), InputError);
}

TEST(PlanLibrary, SeedsAnswerForEverySeedOrTheQuantileNamed) {
  const std::string file = scenario_file("whatif-plan-seeds", 60);
  PlanOptions opt;
  opt.target = "ttft.p99<=0.3";
  const std::uint64_t first = 1;
  std::vector<long long> single;
  for (std::uint64_t seed = first; seed < first + 3; ++seed) {
    const Json p = run_plan(file, {"seed=" + std::to_string(seed)}, opt);
    ASSERT_TRUE(p["policies"]["vllm"]["value"].is_number()) << p.dump(2);
    single.push_back(p["policies"]["vllm"]["value"]);
  }
  ASSERT_NE(*std::min_element(single.begin(), single.end()), *std::max_element(single.begin(), single.end()))
      << "the test needs seeds whose answers differ";
  opt.seeds = 3;
  const Json all = run_plan(file, {"seed=" + std::to_string(first)}, opt);
  const Json& r = all["policies"]["vllm"];
  EXPECT_EQ(r["value"].get<long long>(), *std::max_element(single.begin(), single.end())) << r["reason"];
  EXPECT_EQ(r["spread"]["min"].get<long long>(), *std::min_element(single.begin(), single.end()));
  EXPECT_EQ(r["spread"]["max"].get<long long>(), *std::max_element(single.begin(), single.end()));
  ASSERT_EQ(r["seeds"].size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r["seeds"][i]["seed"].get<std::uint64_t>(), first + i);
    EXPECT_EQ(r["seeds"][i]["value"].get<long long>(), single[i]);
  }
  EXPECT_EQ(all["seeds"]["count"], 3);
  opt.seed_quantile = 1.0 / 3;
  const Json any = run_plan(file, {"seed=" + std::to_string(first)}, opt);
  EXPECT_EQ(any["policies"]["vllm"]["value"].get<long long>(), *std::min_element(single.begin(), single.end()));
  opt.seeds = 0;
  EXPECT_THROW(run_plan(file, {}, opt), InputError);
  opt.seeds = 3;
  opt.seed_quantile = 0;
  EXPECT_THROW(run_plan(file, {}, opt), InputError);
}

TEST(PlanLibrary, NothingMeetingInTheRangeIsAnAnswerWithItsReason) {
  PlanOptions opt;
  opt.target = "0.95";
  opt.min = 1;
  opt.max = 1;
  const Json plan = run_plan(scenario_file("whatif-plan-none", 200), {}, opt);
  const Json& r = plan["policies"]["vllm"];
  EXPECT_TRUE(r["value"].is_null()) << plan.dump(2);
  EXPECT_NE(r["reason"].get<std::string>().find("not met even at 1 instances"), std::string::npos) << r["reason"];
  opt.min = 3;
  opt.max = 2;
  EXPECT_THROW(run_plan(scenario_file("whatif-plan-bad", 10), {}, opt), InputError);
}

}  // namespace
}  // namespace kunsim
