ALTER TABLE orders
    DROP COLUMN approved_at,
    DROP COLUMN coupon,
    DROP COLUMN offer_code,
    DROP COLUMN access_until;
