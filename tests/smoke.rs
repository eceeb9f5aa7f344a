mod common;

#[test]
fn fixture_stats_match_expected_counts() {
    let fx = common::fixture();
    let stats = common::json_on(&fx.db, common::FIXTURE_NOW, &["stats"]);
    let expected = common::expected();
    let counts = &expected["counts"];
    assert_eq!(stats["threads"]["active"], counts["threads_active"]);
    assert_eq!(
        stats["attachments"]["purgeable"],
        counts["attachments_purge_eligible_30d"]
    );
}
