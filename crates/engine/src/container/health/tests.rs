use super::*;

fn config(test: &[&str]) -> HealthConfig {
    HealthConfig {
        test: Some(test.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    }
}

fn result(code: i64) -> HealthcheckResult {
    HealthcheckResult {
        exit_code: Some(code),
        ..Default::default()
    }
}

#[test]
fn checks_are_read_with_dockers_defaults() {
    let c = Check::of(Some(&config(&["CMD-SHELL", "test -e /ok"])), &[]).unwrap();
    assert_eq!(c.argv, ["/bin/sh", "-c", "test -e /ok"]);
    assert_eq!(
        (c.interval, c.timeout, c.retries),
        (DEFAULT_INTERVAL, DEFAULT_TIMEOUT, 3)
    );
    let shell = ["/bin/ash".to_string(), "-ec".to_string()];
    assert_eq!(
        Check::of(Some(&config(&["CMD-SHELL", "x"])), &shell)
            .unwrap()
            .argv,
        ["/bin/ash", "-ec", "x"]
    );
    assert_eq!(
        Check::of(Some(&config(&["CMD", "true", "a"])), &[])
            .unwrap()
            .argv,
        ["true", "a"]
    );
    assert_eq!(Check::of(Some(&config(&["NONE"])), &[]), None);
    assert_eq!(Check::of(Some(&config(&[])), &[]), None);
    assert_eq!(Check::of(None, &[]), None);
}

#[test]
fn bad_checks_are_refused_with_dockers_words() {
    let mut c = config(&["CMD", "true"]);
    c.interval = Some(1000);
    let e = validate(Some(&c)).unwrap_err().to_string();
    assert_eq!(e, "Interval in Healthcheck cannot be less than 1ms");
    c.interval = Some(0);
    c.retries = Some(-1);
    assert!(validate(Some(&c))
        .unwrap_err()
        .to_string()
        .contains("negative"));
    assert!(validate(Some(&config(&["BOGUS"]))).is_err());
    assert!(validate(None).is_ok());
}

#[test]
fn the_containers_check_takes_what_it_leaves_unset_from_the_image() {
    let mut image = config(&["CMD", "img"]);
    image.interval = Some(5);
    image.retries = Some(7);
    let mut mine = Some(HealthConfig {
        retries: Some(2),
        ..Default::default()
    });
    merge(&mut mine, Some(&image));
    let mine = mine.unwrap();
    assert_eq!(mine.test, image.test);
    assert_eq!((mine.interval, mine.retries), (Some(5), Some(2)));
    let mut none = None;
    merge(&mut none, Some(&image));
    assert_eq!(none, Some(image));
}

#[test]
fn results_make_the_status_as_dockers_do() {
    let mut check = Check::of(Some(&config(&["CMD", "x"])), &[]).unwrap();
    check.retries = 2;
    check.start_period = Duration::from_secs(10);
    let mut h = starting(None);
    // A failure within the start period does not count.
    assert!(!record(&mut h, &check, result(1), Duration::from_secs(1)));
    assert_eq!(
        (h.status, h.failing_streak),
        (Some(HealthStatusEnum::STARTING), Some(0))
    );
    assert!(record(&mut h, &check, result(0), Duration::from_secs(2)));
    assert_eq!(h.status, Some(HealthStatusEnum::HEALTHY));
    assert!(!record(&mut h, &check, result(1), Duration::from_secs(3)));
    assert!(record(&mut h, &check, result(2), Duration::from_secs(4)));
    assert_eq!(
        (h.status, h.failing_streak),
        (Some(HealthStatusEnum::UNHEALTHY), Some(2))
    );
    for _ in 0..5 {
        record(&mut h, &check, result(1), Duration::from_secs(5));
    }
    assert_eq!(h.log.as_ref().unwrap().len(), KEPT_RESULTS);
    let again = starting(Some(h));
    assert_eq!(
        (again.status, again.failing_streak),
        (Some(HealthStatusEnum::STARTING), Some(0))
    );
    assert_eq!(again.log.unwrap().len(), KEPT_RESULTS);
}

#[test]
fn waits_and_durations_read_as_dockers() {
    let mut check = Check::of(Some(&config(&["CMD", "x"])), &[]).unwrap();
    check.start_period = Duration::from_secs(10);
    let starting = Some(HealthStatusEnum::STARTING);
    assert_eq!(
        check.next_wait(Duration::from_secs(1), starting),
        DEFAULT_START_INTERVAL
    );
    assert_eq!(
        check.next_wait(Duration::from_secs(11), starting),
        DEFAULT_INTERVAL
    );
    assert_eq!(
        check.next_wait(Duration::from_secs(1), Some(HealthStatusEnum::HEALTHY)),
        DEFAULT_INTERVAL
    );
    assert_eq!(go_duration(Duration::from_secs(30)), "30s");
    assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
    assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
    assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
}
