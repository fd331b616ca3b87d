"""Forecast airline passengers with WarpForecaster, with a 90% interval.

    python examples/forecasting.py            # prints MAPE and coverage
    pip install -e ".[plot]"                  # for the plot (airline_forecast.png)

Holds out the last 12 months, fits with default parameters, prints the MAPE
beside seasonal naive and how many held-out months the 90% interval covers,
then shows the gradient-free update: the state advances over the held-out
months with no training step, and the next year is forecast from there.
"""

import time

import numpy as np
from sktime.datasets import load_airline
from sktime.forecasting.naive import NaiveForecaster
from sktime.performance_metrics.forecasting import mean_absolute_percentage_error

from skwarp import WarpForecaster


def main(n_epochs: int = 100) -> None:
    y = load_airline()
    y_train, y_test = y[:-12], y[-12:]
    fh = np.arange(1, 13)

    forecaster = WarpForecaster(n_epochs=n_epochs, random_state=0)  # 100: the default
    start = time.perf_counter()
    forecaster.fit(y_train)
    print(f"fit time: {time.perf_counter() - start:.1f} s")

    forecast = forecaster.predict(fh)
    interval = forecaster.predict_interval(fh, coverage=0.9)
    lower, upper = interval.iloc[:, 0], interval.iloc[:, 1]
    covered = int(((y_test.to_numpy() >= lower.to_numpy())
                   & (y_test.to_numpy() <= upper.to_numpy())).sum())
    naive = NaiveForecaster(strategy="last", sp=12).fit(y_train).predict(fh)
    print(f"MAPE WARP {mean_absolute_percentage_error(y_test, forecast):.4f}, "
          f"seasonal naive {mean_absolute_percentage_error(y_test, naive):.4f}")
    print(f"90% interval covers {covered} of 12 held-out months")

    start = time.perf_counter()
    forecaster.update(y_test, update_params=False)  # no gradient step
    next_year = forecaster.predict(fh)
    print(f"update over 12 new months: {1000 * (time.perf_counter() - start):.0f} ms; "
          f"forecast for {next_year.index[0]} .. {next_year.index[-1]}")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print('matplotlib not installed: pip install -e ".[plot]" for the plot')
        return
    fig, ax = plt.subplots(figsize=(9, 4))
    times = y.index.to_timestamp()
    ax.plot(times, y.to_numpy(), color="black", label="airline passengers")
    test_times = y_test.index.to_timestamp()
    ax.plot(test_times, forecast.to_numpy(), color="C0", label="WARP forecast")
    ax.fill_between(test_times, lower.to_numpy(), upper.to_numpy(), color="C0",
                    alpha=0.25, label="90% interval")
    ax.legend(loc="upper left")
    ax.set_title("WarpForecaster on the airline data, last 12 months held out")
    fig.tight_layout()
    fig.savefig("airline_forecast.png", dpi=120)
    print("wrote airline_forecast.png")


if __name__ == "__main__":
    main()
