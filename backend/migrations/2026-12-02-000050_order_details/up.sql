-- What the platforms tell us about an order, kept: when it was approved (the approving event's own
-- time, else when Portaria received it), the coupon used, the offer or plan bought, and the end of the
-- paid period the platform reported (a subscription's `access_until` / next charge date).
ALTER TABLE orders
    ADD COLUMN approved_at timestamptz,
    ADD COLUMN coupon text CHECK (length(coupon) BETWEEN 1 AND 200),
    ADD COLUMN offer_code text CHECK (length(offer_code) BETWEEN 1 AND 200),
    ADD COLUMN access_until timestamptz;
