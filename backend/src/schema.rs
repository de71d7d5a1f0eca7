// The database schema, kept by hand in step with backend/migrations (diesel print-schema layout).

diesel::table! {
    users (id) {
        id -> Int8,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        created_at -> Timestamptz,
        last_login_at -> Nullable<Timestamptz>,
        role -> Text,
        active -> Bool,
        token_version -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    courses (id) {
        id -> Int8,
        slug -> Text,
        name -> Text,
        access_days -> Nullable<Int4>,
        created_at -> Timestamptz,
        access_url -> Nullable<Text>,
        active -> Bool,
        updated_at -> Timestamptz,
        access_webhook_url -> Nullable<Text>,
    }
}

diesel::table! {
    product_mappings (id) {
        id -> Int8,
        source -> Text,
        external_product_id -> Text,
        offer_code -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    product_mapping_courses (mapping_id, course_id) {
        mapping_id -> Int8,
        course_id -> Int8,
    }
}

diesel::table! {
    product_aliases (source, alias) {
        source -> Text,
        alias -> Text,
        external_product_id -> Text,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    product_courses (id) {
        id -> Int8,
        source -> Text,
        external_product_id -> Text,
        product_name -> Nullable<Text>,
        course_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    customers (id) {
        id -> Int8,
        email -> Text,
        name -> Nullable<Text>,
        document -> Nullable<Text>,
        phone -> Nullable<Text>,
        search_text -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        last_activity_at -> Timestamptz,
    }
}

diesel::table! {
    orders (id) {
        id -> Int8,
        source -> Text,
        external_id -> Text,
        customer_id -> Int8,
        course_id -> Nullable<Int8>,
        status -> Text,
        amount_cents -> Nullable<Int8>,
        currency -> Nullable<Text>,
        payment_method -> Nullable<Text>,
        installments -> Nullable<Int4>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        payment_timeout_at -> Nullable<Timestamptz>,
        approved_at -> Nullable<Timestamptz>,
        coupon -> Nullable<Text>,
        offer_code -> Nullable<Text>,
        access_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    enrollments (id) {
        id -> Int8,
        customer_id -> Int8,
        course_id -> Int8,
        order_id -> Nullable<Int8>,
        status -> Text,
        granted_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        expires_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        reminded_for -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_events (id) {
        id -> Int8,
        source -> Text,
        received_at -> Timestamptz,
        remote_addr -> Nullable<Text>,
        headers -> Jsonb,
        raw_body -> Text,
        body_size -> Int4,
        truncated -> Bool,
        outcome -> Text,
        error -> Nullable<Text>,
        dedup_key -> Nullable<Text>,
        duplicate_of -> Nullable<Int8>,
        event_type -> Nullable<Text>,
        kind -> Nullable<Text>,
        customer_id -> Nullable<Int8>,
        order_id -> Nullable<Int8>,
        replay_of -> Nullable<Int8>,
        latency_ms -> Nullable<Int4>,
        note -> Nullable<Text>,
        raw_body_purged_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_rate_limited (source, remote_addr, minute) {
        source -> Text,
        remote_addr -> Text,
        minute -> Timestamptz,
        requests -> Int8,
    }
}

diesel::table! {
    treatments (id) {
        id -> Int8,
        kind -> Text,
        status -> Text,
        attempts -> Int4,
        run_at -> Timestamptz,
        lease_until -> Nullable<Timestamptz>,
        output -> Nullable<Text>,
        last_error -> Nullable<Text>,
        reason -> Nullable<Text>,
        payload -> Jsonb,
        event_id -> Nullable<Int8>,
        customer_id -> Int8,
        course_id -> Nullable<Int8>,
        order_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        done_at -> Nullable<Timestamptz>,
        actor_user_id -> Nullable<Int8>,
        staff_reason -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Int8,
        user_id -> Nullable<Int8>,
        action -> Text,
        target_type -> Text,
        target_id -> Nullable<Int8>,
        details -> Jsonb,
        created_at -> Timestamptz,
        reason -> Nullable<Text>,
        before -> Nullable<Jsonb>,
        after -> Nullable<Jsonb>,
    }
}

diesel::table! {
    alert_marks (key) {
        key -> Text,
        at -> Timestamptz,
    }
}

diesel::joinable!(product_courses -> courses (course_id));
diesel::joinable!(orders -> customers (customer_id));
diesel::joinable!(orders -> courses (course_id));
diesel::joinable!(enrollments -> customers (customer_id));
diesel::joinable!(enrollments -> courses (course_id));
diesel::joinable!(enrollments -> orders (order_id));
diesel::joinable!(webhook_events -> customers (customer_id));
diesel::joinable!(webhook_events -> orders (order_id));
diesel::joinable!(treatments -> webhook_events (event_id));
diesel::joinable!(treatments -> customers (customer_id));
diesel::joinable!(treatments -> courses (course_id));
diesel::joinable!(treatments -> orders (order_id));
diesel::joinable!(audit_log -> users (user_id));
diesel::joinable!(treatments -> users (actor_user_id));
diesel::joinable!(product_mapping_courses -> product_mappings (mapping_id));
diesel::joinable!(product_mapping_courses -> courses (course_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    courses,
    product_aliases,
    product_courses,
    product_mappings,
    product_mapping_courses,
    customers,
    orders,
    enrollments,
    webhook_events,
    treatments,
    audit_log,
);
